package io.raftkv.operator.member;

/** A call to the cluster failed; the message names the call and the endpoint. */
public class MemberClientException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** A failure with its cause. */
    public MemberClientException(String message, Throwable cause) {
        super(message, cause);
    }

    /** A failure without a cause. */
    public MemberClientException(String message) {
        super(message);
    }
}
