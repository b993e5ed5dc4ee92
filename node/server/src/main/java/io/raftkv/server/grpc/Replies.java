package io.raftkv.server.grpc;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.raftkv.mvcc.MvccException;
import io.raftkv.server.api.EtcdCodec;
import io.raftkv.server.api.EtcdErrors;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/** Completes gRPC calls from futures, translating failures into etcd's errors. */
final class Replies {
    private static final Logger LOG = Logger.getLogger(Replies.class.getName());

    private Replies() {
    }

    /** Sends the future's value, or its failure as an etcd status, to {@code obs}. */
    static <T> void reply(CompletableFuture<T> f, StreamObserver<T> obs) {
        f.whenComplete((v, t) -> {
            if (t == null) {
                obs.onNext(v);
                obs.onCompleted();
            } else {
                obs.onError(toStatus(t));
            }
        });
    }

    /** Runs {@code body}, replying with its future, or with the error it throws at once. */
    static <T> void handle(StreamObserver<T> obs, Supplier<CompletableFuture<T>> body) {
        CompletableFuture<T> f;
        try {
            f = body.get();
        } catch (Throwable t) {
            obs.onError(toStatus(t));
            return;
        }
        reply(f, obs);
    }

    /** Maps any failure to the status etcd would return. */
    static StatusRuntimeException toStatus(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        if (t instanceof StatusRuntimeException s) {
            return s;
        }
        if (t instanceof MvccException) {
            return EtcdCodec.toStatus(t);
        }
        if (t instanceof TimeoutException) {
            return EtcdErrors.TIMEOUT.exception();
        }
        if (t instanceof IllegalArgumentException) {
            return Status.INVALID_ARGUMENT.withDescription(t.getMessage()).asRuntimeException();
        }
        LOG.log(Level.WARNING, "request failed", t);
        return Status.INTERNAL.withDescription(String.valueOf(t)).asRuntimeException();
    }

    /** Whether {@code t} is etcd's "not leader" refusal, which a follower answers by forwarding. */
    static boolean isNotLeader(Throwable t) {
        StatusRuntimeException s = toStatus(t);
        return s.getStatus().getCode() == EtcdErrors.NOT_LEADER.code()
                && EtcdErrors.NOT_LEADER.message().equals(s.getStatus().getDescription());
    }
}
