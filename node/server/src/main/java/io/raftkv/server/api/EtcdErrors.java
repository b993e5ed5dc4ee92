package io.raftkv.server.api;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * The errors etcd returns, with etcd's gRPC codes and exact messages, so that clients (etcdctl,
 * jetcd, clientv3) recognise them and retry or fail as they do against etcd.
 */
public enum EtcdErrors {
    EMPTY_KEY(Status.Code.INVALID_ARGUMENT, "etcdserver: key is not provided"),
    KEY_NOT_FOUND(Status.Code.INVALID_ARGUMENT, "etcdserver: key not found"),
    VALUE_PROVIDED(Status.Code.INVALID_ARGUMENT, "etcdserver: value is provided"),
    LEASE_PROVIDED(Status.Code.INVALID_ARGUMENT, "etcdserver: lease is provided"),
    TOO_MANY_OPS(Status.Code.INVALID_ARGUMENT, "etcdserver: too many operations in txn request"),
    DUPLICATE_KEY(Status.Code.INVALID_ARGUMENT, "etcdserver: duplicate key given in txn request"),
    COMPACTED(Status.Code.OUT_OF_RANGE, "etcdserver: mvcc: required revision has been compacted"),
    FUTURE_REV(Status.Code.OUT_OF_RANGE, "etcdserver: mvcc: required revision is a future revision"),
    NO_SPACE(Status.Code.RESOURCE_EXHAUSTED, "etcdserver: mvcc: database space exceeded"),
    LEASE_NOT_FOUND(Status.Code.NOT_FOUND, "etcdserver: requested lease not found"),
    LEASE_EXISTS(Status.Code.FAILED_PRECONDITION, "etcdserver: lease already exists"),
    LEASE_TTL_TOO_LARGE(Status.Code.OUT_OF_RANGE, "etcdserver: too large lease TTL"),
    MEMBER_EXISTS(Status.Code.FAILED_PRECONDITION, "etcdserver: member ID already exist"),
    PEER_URL_EXISTS(Status.Code.FAILED_PRECONDITION, "etcdserver: Peer URLs already exists"),
    MEMBER_NOT_ENOUGH_STARTED(Status.Code.FAILED_PRECONDITION,
            "etcdserver: re-configuration failed due to not enough started members"),
    MEMBER_BAD_URLS(Status.Code.INVALID_ARGUMENT, "etcdserver: given member URLs are invalid"),
    MEMBER_NOT_FOUND(Status.Code.NOT_FOUND, "etcdserver: member not found"),
    MEMBER_NOT_LEARNER(Status.Code.FAILED_PRECONDITION, "etcdserver: can only promote a learner member"),
    LEARNER_NOT_READY(Status.Code.FAILED_PRECONDITION,
            "etcdserver: can only promote a learner member which is in sync with leader"),
    TOO_MANY_LEARNERS(Status.Code.FAILED_PRECONDITION, "etcdserver: too many learner members in cluster"),
    REQUEST_TOO_LARGE(Status.Code.INVALID_ARGUMENT, "etcdserver: request is too large"),
    TOO_MANY_REQUESTS(Status.Code.RESOURCE_EXHAUSTED, "etcdserver: too many requests"),
    NO_LEADER(Status.Code.UNAVAILABLE, "etcdserver: no leader"),
    NOT_LEADER(Status.Code.FAILED_PRECONDITION, "etcdserver: not leader"),
    LEADER_CHANGED(Status.Code.UNAVAILABLE, "etcdserver: leader changed"),
    STOPPED(Status.Code.UNAVAILABLE, "etcdserver: server stopped"),
    /** raftkv's own: the gRPC server took a call before the member opened its data dir. */
    STARTING(Status.Code.UNAVAILABLE, "raftkv: member is starting"),
    TIMEOUT(Status.Code.UNAVAILABLE, "etcdserver: request timed out"),
    TIMEOUT_DUE_TO_LEADER_FAIL(Status.Code.UNAVAILABLE,
            "etcdserver: request timed out, possibly due to previous leader failure"),
    UNHEALTHY(Status.Code.UNAVAILABLE, "etcdserver: unhealthy cluster"),
    CORRUPT(Status.Code.DATA_LOSS, "etcdserver: corrupt cluster"),
    BAD_LEADER_TRANSFEREE(Status.Code.FAILED_PRECONDITION, "etcdserver: bad leader transferee"),
    CONF_CHANGE_IN_PROGRESS(Status.Code.FAILED_PRECONDITION,
            "etcdserver: another membership change is in progress");

    private final Status.Code code;
    private final String message;

    EtcdErrors(Status.Code code, String message) {
        this.code = code;
        this.message = message;
    }

    /** The gRPC status code etcd uses. */
    public Status.Code code() {
        return code;
    }

    /** The exact message text etcd uses. */
    public String message() {
        return message;
    }

    /** A gRPC exception carrying this error, ready to hand to a response observer. */
    public StatusRuntimeException exception() {
        return Status.fromCode(code).withDescription(message).asRuntimeException();
    }
}
