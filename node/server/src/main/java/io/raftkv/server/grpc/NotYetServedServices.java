package io.raftkv.server.grpc;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import io.raftkv.server.api.etcd.WatchGrpc;
import io.raftkv.server.api.etcd.WatchRequest;
import io.raftkv.server.api.etcd.WatchResponse;

/**
 * Watch is specified by its own issue; until it lands the node answers every call with
 * UNIMPLEMENTED and says so, rather than pretending.
 */
final class NotYetServedServices {
    private NotYetServedServices() {
    }

    static RuntimeException unimplemented(String service) {
        return Status.UNIMPLEMENTED.withDescription("raftkv: the " + service
                + " service is not served by this version yet (watch and leases are a separate issue)").asRuntimeException();
    }

    /** etcd's Watch service, not yet served. */
    @GrpcService
    public static class WatchService extends WatchGrpc.WatchImplBase {
        @Override
        public StreamObserver<WatchRequest> watch(StreamObserver<WatchResponse> obs) {
            obs.onError(unimplemented("Watch"));
            return new StreamObserver<>() {
                @Override
                public void onNext(WatchRequest value) {
                }

                @Override
                public void onError(Throwable t) {
                }

                @Override
                public void onCompleted() {
                }
            };
        }
    }
}
