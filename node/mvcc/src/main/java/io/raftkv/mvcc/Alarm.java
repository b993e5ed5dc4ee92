package io.raftkv.mvcc;

/** An alarm the store raises, as etcd's {@code AlarmType}. */
public enum Alarm {
  /** The backend exceeds its quota: puts, txns with puts and lease grants are refused. */
  NOSPACE
}
