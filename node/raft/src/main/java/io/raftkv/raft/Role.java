package io.raftkv.raft;

/** The role a node plays in its current term. */
public enum Role {
    FOLLOWER,
    /** Asking for pre-votes at term + 1 without bumping its own term (thesis §9.6). */
    PRE_CANDIDATE,
    CANDIDATE,
    LEADER
}
