package io.raftkv.raft;

/**
 * The leader's view of one follower (etcd's Progress): how far its log is known to match and
 * which flow-control state replication is in.
 *
 * <ul>
 *   <li>PROBE: one AppendEntries at a time until the match point is found.</li>
 *   <li>REPLICATE: optimistic pipelining, up to the inflight window.</li>
 *   <li>SNAPSHOT: a snapshot is on its way; nothing else is sent.</li>
 * </ul>
 * Only the leader uses it, on the driver thread.
 */
public final class Progress {
    /** Replication flow-control state. */
    public enum State { PROBE, REPLICATE, SNAPSHOT }

    long match;
    long next;
    State state = State.PROBE;
    long pendingSnapshot;
    boolean recentActive;
    boolean probeSent;
    boolean learner;
    final Inflights inflights;

    Progress(long next, int maxInflight, long maxInflightBytes, boolean learner) {
        this.next = next;
        this.inflights = new Inflights(maxInflight, maxInflightBytes);
        this.learner = learner;
    }

    /** Highest index known to be replicated on the follower. */
    public long match() {
        return match;
    }

    /** Next index to send. */
    public long next() {
        return next;
    }

    /** Flow-control state. */
    public State state() {
        return state;
    }

    /** Whether the follower is a learner. */
    public boolean isLearner() {
        return learner;
    }

    /** Whether the follower has been heard from within the current check-quorum window. */
    public boolean recentActive() {
        return recentActive;
    }

    private void resetState(State s) {
        probeSent = false;
        pendingSnapshot = 0;
        state = s;
        inflights.reset();
    }

    void becomeProbe() {
        if (state == State.SNAPSHOT) {
            long pending = pendingSnapshot;
            resetState(State.PROBE);
            next = Math.max(match + 1, pending + 1);
        } else {
            resetState(State.PROBE);
            next = match + 1;
        }
    }

    void becomeReplicate() {
        resetState(State.REPLICATE);
        next = match + 1;
    }

    void becomeSnapshot(long snapshotIndex) {
        resetState(State.SNAPSHOT);
        pendingSnapshot = snapshotIndex;
    }

    /** Records an acknowledgement up to {@code n}; returns whether the match index grew. */
    boolean maybeUpdate(long n) {
        boolean updated = false;
        if (match < n) {
            match = n;
            updated = true;
            probeSent = false;
        }
        next = Math.max(next, n + 1);
        return updated;
    }

    /**
     * Handles a rejection of the AppendEntries whose prevIndex was {@code rejected}; the follower
     * hinted that its log may match at {@code matchHint}. Returns false for a stale rejection.
     */
    boolean maybeDecrTo(long rejected, long matchHint) {
        if (state == State.REPLICATE) {
            if (rejected <= match) {
                return false;
            }
            next = match + 1;
            return true;
        }
        if (next - 1 != rejected) {
            return false;
        }
        next = Math.max(Math.min(rejected, matchHint + 1), match + 1);
        probeSent = false;
        return true;
    }

    /** True if nothing more may be sent now. */
    boolean isPaused() {
        return switch (state) {
            case PROBE -> probeSent;
            case REPLICATE -> inflights.full();
            case SNAPSHOT -> true;
        };
    }

    @Override
    public String toString() {
        return state + " match=" + match + " next=" + next + (learner ? " learner" : "");
    }
}
