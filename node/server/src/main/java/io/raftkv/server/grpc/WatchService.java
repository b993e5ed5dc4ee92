package io.raftkv.server.grpc;

import io.grpc.ServerServiceDefinition;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import io.raftkv.server.api.EtcdErrors;
import io.raftkv.server.api.etcd.WatchGrpc;
import io.raftkv.server.api.etcd.WatchRequest;
import io.raftkv.server.api.etcd.WatchResponse;
import io.raftkv.server.node.NodeRuntime;
import io.raftkv.server.watch.WatchHub;
import jakarta.inject.Inject;

/**
 * etcd's Watch service, served by the member the client is connected to (followers too) from its
 * own store through the node's {@link WatchHub}. Requests are handed to the hub; responses are
 * sent by the hub thread only while the gRPC stream is ready (outbound flow control), so a client
 * that stops reading costs a bounded buffer.
 */
@GrpcService
public class WatchService extends WatchGrpc.WatchImplBase {

    /** Binds the service with malformed request bodies refused as etcd refuses them. */
    @Override
    public ServerServiceDefinition bindService() {
        return MalformedRequests.guard(super.bindService());
    }

    @Inject
    NodeRuntime node;

    @Override
    public StreamObserver<WatchRequest> watch(StreamObserver<WatchResponse> obs) {
        ServerCallStreamObserver<WatchResponse> call = (ServerCallStreamObserver<WatchResponse>) obs;
        WatchHub hub;
        try {
            hub = node.watchHub();
        } catch (StatusRuntimeException e) {
            // still starting: a retryable status, so that clients come back (jetcd resumes on UNAVAILABLE)
            obs.onError(e);
            return new StreamObserver<>() {
                @Override
                public void onNext(WatchRequest req) {
                }

                @Override
                public void onError(Throwable t) {
                }

                @Override
                public void onCompleted() {
                }
            };
        }
        WatchHub.Stream stream = hub.open(new WatchHub.Sink() {
            @Override
            public boolean isReady() {
                return call.isReady();
            }

            @Override
            public void send(WatchResponse response) {
                if (call.isCancelled()) {
                    return;
                }
                try {
                    call.onNext(response);
                } catch (RuntimeException e) {
                    // The client went away between the check and the send; the on-cancel handler
                    // closes the stream, so there is nothing more to do here.
                }
            }
        });
        call.setOnReadyHandler(stream::ready);
        // WithRequireLeader: ended with "no leader" once this member has lost the cluster (etcd).
        Runnable unregister = !RequireLeader.required() ? () -> { } : node.onLeaderLoss(() -> stream.closeThen(() -> {
            if (!call.isCancelled()) {
                try {
                    call.onError(EtcdErrors.NO_LEADER.exception());
                } catch (RuntimeException e) {
                    // the client went away meanwhile
                }
            }
        }));
        Runnable closed = () -> {
            stream.close();
            unregister.run();
        };
        call.setOnCancelHandler(closed);
        return new StreamObserver<>() {
            @Override
            public void onNext(WatchRequest req) {
                switch (req.getRequestUnionCase()) {
                    case CREATE_REQUEST -> stream.create(req.getCreateRequest());
                    case CANCEL_REQUEST -> stream.cancel(req.getCancelRequest().getWatchId());
                    case PROGRESS_REQUEST -> stream.requestProgress();
                    default -> {
                        // etcd ignores a request with no known union member.
                    }
                }
            }

            @Override
            public void onError(Throwable t) {
                closed.run();
            }

            @Override
            public void onCompleted() {
                // etcd keeps serving a half-closed watch stream until the client cancels it.
            }
        };
    }
}
