package io.raftkv.raft;

/**
 * A bounded window of AppendEntries sent to one follower and not yet acknowledged, remembered by
 * the last index each carried and the bytes of its entries. When full (as many messages as
 * etcd's MaxInflightMsgs, or as many bytes as its MaxInflightBytes), the leader stops sending to
 * that follower until acknowledgements free slots. The byte bound keeps a leader's memory bounded
 * while it streams a long log to a follower that is far behind.
 */
final class Inflights {
    private final long[] indexes;
    private final long[] sizes;
    private final long maxBytes;
    private int start;
    private int count;
    private long bytes;

    /** A window of {@code size} messages and, if {@code maxBytes} is positive, that many bytes. */
    Inflights(int size, long maxBytes) {
        this.indexes = new long[size];
        this.sizes = new long[size];
        this.maxBytes = maxBytes;
    }

    /** Records a message whose last entry index is {@code index}; indices must increase. */
    void add(long index, long messageBytes) {
        if (full()) {
            throw new IllegalStateException("cannot add into a full inflights window");
        }
        int slot = (start + count) % indexes.length;
        indexes[slot] = index;
        sizes[slot] = messageBytes;
        bytes += messageBytes;
        count++;
    }

    /** Frees every message whose last index is at most {@code index}. */
    void freeLE(long index) {
        while (count > 0 && indexes[start] <= index) {
            freeFirstOne();
        }
    }

    /** Frees the oldest message, so that one more may be sent. */
    void freeFirstOne() {
        if (count > 0) {
            bytes -= sizes[start];
            start = (start + 1) % indexes.length;
            count--;
        }
        if (count == 0) {
            start = 0;
            bytes = 0;
        }
    }

    boolean full() {
        return count == indexes.length || (maxBytes > 0 && bytes >= maxBytes);
    }

    int count() {
        return count;
    }

    /** Bytes of entries in the window. */
    long bytes() {
        return bytes;
    }

    void reset() {
        start = 0;
        count = 0;
        bytes = 0;
    }
}
