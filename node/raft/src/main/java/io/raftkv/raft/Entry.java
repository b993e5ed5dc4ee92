package io.raftkv.raft;

import java.util.Arrays;

/**
 * One Raft log entry. Immutable by convention: the core never mutates {@code data}, and callers
 * must not either once the entry is handed over.
 *
 * @param term  term of the leader that created the entry
 * @param index position in the log, starting at 1
 * @param type  normal data or a configuration change
 * @param data  payload; never null (use an empty array)
 */
public record Entry(long term, long index, EntryType type, byte[] data) {
    private static final byte[] EMPTY = new byte[0];

    public Entry {
        if (data == null) {
            data = EMPTY;
        }
    }

    /** A normal entry. */
    public static Entry normal(long term, long index, byte[] data) {
        return new Entry(term, index, EntryType.NORMAL, data);
    }

    /** Approximate encoded size, used for message and batch size limits. */
    public long sizeBytes() {
        return data.length + 24L;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Entry e && e.term == term && e.index == index && e.type == type
                && Arrays.equals(e.data, data);
    }

    @Override
    public int hashCode() {
        return (int) (31 * (31 * term + index) + Arrays.hashCode(data));
    }

    @Override
    public String toString() {
        return index + "/" + term + (type == EntryType.CONF_CHANGE ? " conf" : "") + " (" + data.length + "B)";
    }
}
