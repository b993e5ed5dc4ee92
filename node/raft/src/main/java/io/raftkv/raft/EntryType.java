package io.raftkv.raft;

/** What a log entry carries: application data, or a membership change interpreted by the core. */
public enum EntryType {
    /** Opaque application data; an empty payload is the no-op a new leader appends (Raft §8). */
    NORMAL,
    /** A serialized {@link ConfChange}; takes effect when appended, as in etcd. */
    CONF_CHANGE
}
