package io.raftkv.raft;

import java.util.List;

/**
 * A message between Raft nodes. Every message carries its sender, receiver and the sender's term
 * (0 for messages that are not term-checked, such as a forwarded proposal). The transport
 * delivers them to {@link RaftNode#step(Message)} on the receiver; it may drop, delay, duplicate
 * or reorder them, and the protocol stays safe.
 */
public sealed interface Message {
    /** Sender id. */
    long from();

    /** Receiver id. */
    long to();

    /** Sender's term; 0 for local or forwarded messages that are not term-checked. */
    long term();

    /** A proposal forwarded from a follower to the leader. */
    record Propose(long from, long to, long term, List<Entry> entries) implements Message {
    }

    /**
     * AppendEntries (Raft §5.3): entries following {@code (prevIndex, prevTerm)}, and the leader's
     * commit index.
     */
    record AppendEntries(long from, long to, long term, long prevIndex, long prevTerm,
                         List<Entry> entries, long commit) implements Message {
    }

    /**
     * Reply to AppendEntries or InstallSnapshot. On success {@code index} is the last index known
     * to match. On rejection {@code index} is the rejected prevIndex and ({@code rejectHint},
     * {@code logTerm}) tell the leader where the logs may agree: the largest index at or below
     * the probe whose term is at most the leader's prevTerm (fast backtracking).
     */
    record AppendResponse(long from, long to, long term, long index, boolean reject,
                          long rejectHint, long logTerm) implements Message {
    }

    /** Leader heartbeat carrying a safe commit index and an optional ReadIndex context. */
    record Heartbeat(long from, long to, long term, long commit, byte[] context) implements Message {
    }

    /** Reply to a heartbeat, echoing its context. */
    record HeartbeatResponse(long from, long to, long term, byte[] context) implements Message {
    }

    /**
     * RequestVote (Raft §5.2) or, with {@code preVote}, a pre-vote (thesis §9.6) for term
     * {@code term} that the sender has not entered yet. {@code transfer} marks an election forced
     * by leadership transfer, which bypasses the check-quorum leader lease.
     */
    record RequestVote(long from, long to, long term, long lastIndex, long lastTerm,
                       boolean preVote, boolean transfer) implements Message {
    }

    /** Reply to a (pre-)vote request. */
    record VoteResponse(long from, long to, long term, boolean reject, boolean preVote) implements Message {
    }

    /** InstallSnapshot (Raft §7): the follower replaces its log with the snapshot. */
    record InstallSnapshot(long from, long to, long term, Snapshot snapshot) implements Message {
    }

    /** Leadership transfer: tells the target to start an election at once (thesis §3.10). */
    record TimeoutNow(long from, long to, long term) implements Message {
    }

    /** A request to move leadership to {@code transferee}, forwarded to the leader. */
    record TransferLeader(long from, long to, long term, long transferee) implements Message {
    }

    /** A ReadIndex request forwarded from a follower to the leader. */
    record ReadIndexRequest(long from, long to, long term, byte[] context) implements Message {
    }

    /** The leader's answer to a forwarded ReadIndex request. */
    record ReadIndexResponse(long from, long to, long term, long index, byte[] context) implements Message {
    }
}
