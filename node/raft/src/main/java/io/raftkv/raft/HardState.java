package io.raftkv.raft;

/**
 * The state that must be durable before any message that depends on it leaves the node
 * (Raft Figure 2: currentTerm, votedFor; plus the commit index, as in etcd).
 *
 * @param term   latest term this node has seen
 * @param vote   node voted for in {@code term}, or {@link RaftNode#NONE}
 * @param commit highest index known to be committed
 */
public record HardState(long term, long vote, long commit) {
    /** The state of a node that has never run. */
    public static final HardState EMPTY = new HardState(0, 0, 0);

    /** True if this is the never-run state. */
    public boolean isEmpty() {
        return equals(EMPTY);
    }
}
