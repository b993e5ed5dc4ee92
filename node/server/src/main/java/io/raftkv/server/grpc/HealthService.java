package io.raftkv.server.grpc;

import io.grpc.ServerServiceDefinition;
import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import io.raftkv.raft.RaftNode;
import io.raftkv.server.api.health.HealthCheckRequest;
import io.raftkv.server.api.health.HealthCheckResponse;
import io.raftkv.server.api.health.HealthGrpc;
import io.raftkv.server.node.NodeRuntime;
import jakarta.inject.Inject;

/** grpc.health.v1: SERVING only while this node knows a leader (as etcd's gRPC health check). */
@GrpcService
public class HealthService extends HealthGrpc.HealthImplBase {

    /** Binds the service with malformed request bodies refused as etcd refuses them. */
    @Override
    public ServerServiceDefinition bindService() {
        return MalformedRequests.guard(super.bindService());
    }

    @Inject
    NodeRuntime node;

    @Override
    public void check(HealthCheckRequest req, StreamObserver<HealthCheckResponse> obs) {
        obs.onNext(HealthCheckResponse.newBuilder().setStatus(status()).build());
        obs.onCompleted();
    }

    @Override
    public void watch(HealthCheckRequest req, StreamObserver<HealthCheckResponse> obs) {
        obs.onNext(HealthCheckResponse.newBuilder().setStatus(status()).build());
    }

    private HealthCheckResponse.ServingStatus status() {
        return node.driver().status().leader() != RaftNode.NONE
                ? HealthCheckResponse.ServingStatus.SERVING : HealthCheckResponse.ServingStatus.NOT_SERVING;
    }
}
