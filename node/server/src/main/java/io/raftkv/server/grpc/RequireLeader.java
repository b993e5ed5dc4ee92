package io.raftkv.server.grpc;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.quarkus.grpc.GlobalInterceptor;
import io.raftkv.server.api.EtcdErrors;
import io.raftkv.server.node.NodeRuntime;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

/**
 * etcd's {@code WithRequireLeader}: a client (kube-apiserver's watches, etcdctl) sends the metadata
 * {@code hasleader: true} to be told when the member it talks to has lost the cluster, instead of
 * being served stale or silent. A call with it on a member without a leader fails at once with
 * UNAVAILABLE "etcdserver: no leader"; a call that starts while there is a leader is marked
 * ({@link #REQUIRED}) so that a stream can register to be ended with the same error once the member
 * has had no leader for a few election timeouts ({@link NodeRuntime#onLeaderLoss}).
 */
@GlobalInterceptor
@ApplicationScoped
public class RequireLeader implements ServerInterceptor {

    /** The metadata key clients send (etcd's rpctypes.MetadataRequireLeaderKey). */
    static final Metadata.Key<String> HEADER = Metadata.Key.of("hasleader", Metadata.ASCII_STRING_MARSHALLER);

    /** True in the gRPC context of a call whose client requires a leader. */
    static final Context.Key<Boolean> REQUIRED = Context.key("raftkv-require-leader");

    @Inject
    NodeRuntime node;

    /** Whether the call running on this thread asked for a leader. */
    static boolean required() {
        return Boolean.TRUE.equals(REQUIRED.get());
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                        ServerCallHandler<Q, R> next) {
        if (!"true".equals(headers.get(HEADER))) {
            return next.startCall(call, headers);
        }
        if (!node.hasLeader()) {
            call.close(Status.fromCode(EtcdErrors.NO_LEADER.code()).withDescription(EtcdErrors.NO_LEADER.message()),
                    new Metadata());
            return new ServerCall.Listener<>() {
            };
        }
        return Contexts.interceptCall(Context.current().withValue(REQUIRED, true), call, headers, next);
    }
}
