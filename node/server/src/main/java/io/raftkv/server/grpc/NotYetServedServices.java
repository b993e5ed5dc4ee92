package io.raftkv.server.grpc;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import io.raftkv.server.api.etcd.LeaseGrantRequest;
import io.raftkv.server.api.etcd.LeaseGrantResponse;
import io.raftkv.server.api.etcd.LeaseGrpc;
import io.raftkv.server.api.etcd.LeaseKeepAliveRequest;
import io.raftkv.server.api.etcd.LeaseKeepAliveResponse;
import io.raftkv.server.api.etcd.LeaseLeasesRequest;
import io.raftkv.server.api.etcd.LeaseLeasesResponse;
import io.raftkv.server.api.etcd.LeaseRevokeRequest;
import io.raftkv.server.api.etcd.LeaseRevokeResponse;
import io.raftkv.server.api.etcd.LeaseTimeToLiveRequest;
import io.raftkv.server.api.etcd.LeaseTimeToLiveResponse;

/**
 * Lease is specified by its own issue; until it lands the node answers every call
 * with UNIMPLEMENTED and says so, rather than pretending.
 */
final class NotYetServedServices {
    private NotYetServedServices() {
    }

    static RuntimeException unimplemented(String service) {
        return Status.UNIMPLEMENTED.withDescription("raftkv: the " + service
                + " service is not served by this version yet (watch and leases are a separate issue)").asRuntimeException();
    }

    /** etcd's Lease service, not yet served. */
    @GrpcService
    public static class LeaseService extends LeaseGrpc.LeaseImplBase {
        @Override
        public void leaseGrant(LeaseGrantRequest req, StreamObserver<LeaseGrantResponse> obs) {
            obs.onError(unimplemented("Lease"));
        }

        @Override
        public void leaseRevoke(LeaseRevokeRequest req, StreamObserver<LeaseRevokeResponse> obs) {
            obs.onError(unimplemented("Lease"));
        }

        @Override
        public StreamObserver<LeaseKeepAliveRequest> leaseKeepAlive(StreamObserver<LeaseKeepAliveResponse> obs) {
            obs.onError(unimplemented("Lease"));
            return new StreamObserver<>() {
                @Override
                public void onNext(LeaseKeepAliveRequest value) {
                }

                @Override
                public void onError(Throwable t) {
                }

                @Override
                public void onCompleted() {
                }
            };
        }

        @Override
        public void leaseTimeToLive(LeaseTimeToLiveRequest req, StreamObserver<LeaseTimeToLiveResponse> obs) {
            obs.onError(unimplemented("Lease"));
        }

        @Override
        public void leaseLeases(LeaseLeasesRequest req, StreamObserver<LeaseLeasesResponse> obs) {
            obs.onError(unimplemented("Lease"));
        }
    }
}
