package io.raftkv.mvcc;

import java.util.Objects;

/**
 * A request the store refuses, with etcd's error text so that the server layer can map it to the
 * gRPC status etcd clients expect. A refused request changes nothing (but its Raft index still
 * counts as applied).
 */
public final class MvccException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /** The error kinds, each with etcd's exact message. */
  public enum Code {
    /** A read or watch below the compacted revision, or a compaction at or below it. */
    COMPACTED("etcdserver: mvcc: required revision has been compacted"),
    /** A read, hash or compaction above the current revision. */
    FUTURE_REV("etcdserver: mvcc: required revision is a future revision"),
    /** A txn branch that puts one key twice or puts a key inside a deleted range. */
    DUPLICATE_KEY("etcdserver: duplicate key given in txn request"),
    /** An empty key. */
    EMPTY_KEY("etcdserver: key is not provided"),
    /** A put with ignore_value that also carries a value. */
    VALUE_PROVIDED("etcdserver: value is provided"),
    /** A put with ignore_lease that also carries a lease. */
    LEASE_PROVIDED("etcdserver: lease is provided"),
    /** A put with ignore_value or ignore_lease on a key that does not exist. */
    KEY_NOT_FOUND("etcdserver: key not found"),
    /** The NOSPACE alarm is raised: writes that add data are refused. */
    NO_SPACE("etcdserver: mvcc: database space exceeded"),
    /** The lease does not exist. */
    LEASE_NOT_FOUND("etcdserver: requested lease not found"),
    /** A grant of a lease id that already exists. */
    LEASE_EXISTS("etcdserver: lease already exists");

    private final String message;

    Code(String message) {
      this.message = message;
    }

    /** etcd's message text for this error. */
    public String message() {
      return message;
    }
  }

  private final Code code;

  /** Creates the exception for {@code code} with etcd's message. */
  public MvccException(Code code) {
    super(Objects.requireNonNull(code).message(), null, false, false);
    this.code = code;
  }

  /** The error kind. */
  public Code code() {
    return code;
  }
}
