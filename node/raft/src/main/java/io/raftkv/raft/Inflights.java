package io.raftkv.raft;

/**
 * A bounded window of AppendEntries sent to one follower and not yet acknowledged, remembered by
 * the last index each carried. When full, the leader stops sending to that follower until
 * acknowledgements free slots (flow control, as etcd's MaxInflightMsgs).
 */
final class Inflights {
    private final long[] buffer;
    private int start;
    private int count;

    Inflights(int size) {
        this.buffer = new long[size];
    }

    /** Records a message whose last entry index is {@code index}; indices must increase. */
    void add(long index) {
        if (full()) {
            throw new IllegalStateException("cannot add into a full inflights window");
        }
        buffer[(start + count) % buffer.length] = index;
        count++;
    }

    /** Frees every message whose last index is at most {@code index}. */
    void freeLE(long index) {
        while (count > 0 && buffer[start] <= index) {
            start = (start + 1) % buffer.length;
            count--;
        }
        if (count == 0) {
            start = 0;
        }
    }

    /** Frees the oldest message, so that one more may be sent. */
    void freeFirstOne() {
        if (count > 0) {
            start = (start + 1) % buffer.length;
            count--;
        }
    }

    boolean full() {
        return count == buffer.length;
    }

    int count() {
        return count;
    }

    void reset() {
        start = 0;
        count = 0;
    }
}
