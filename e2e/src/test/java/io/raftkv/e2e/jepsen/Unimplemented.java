package io.raftkv.e2e.jepsen;

import io.etcd.jetcd.common.exception.ErrorCode;
import io.etcd.jetcd.common.exception.EtcdException;
import io.grpc.Status;

import java.util.Optional;

/**
 * Recognises the server's answer "this service is not served" (gRPC UNIMPLEMENTED), so that a
 * workload needing Watch or Lease is skipped with the server's own message on a server that does not
 * serve them yet, instead of failing or reporting a violation.
 */
final class Unimplemented {

    private Unimplemented() {
    }

    /** The server's message if {@code t} or a cause is gRPC UNIMPLEMENTED; empty otherwise. */
    static Optional<String> message(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof EtcdException e && e.getErrorCode() == ErrorCode.UNIMPLEMENTED) {
                return Optional.of(String.valueOf(e.getMessage()));
            }
            Status s = Status.fromThrowable(c);
            if (s.getCode() == Status.Code.UNIMPLEMENTED) {
                return Optional.of("UNIMPLEMENTED: " + s.getDescription());
            }
        }
        return Optional.empty();
    }
}
