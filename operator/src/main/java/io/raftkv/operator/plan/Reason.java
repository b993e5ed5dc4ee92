package io.raftkv.operator.plan;

/**
 * Stable CamelCase reasons, used as condition reasons and Event reasons. A reason says which
 * condition it drives: progressing (work under way), degraded (the cluster needs help or the
 * operator refuses a step) or neither (steady state).
 */
public enum Reason {
    /** Everything matches the spec. */
    Ready(Kind.STEADY),
    /** Writing the bootstrap configuration and starting the first members. */
    Bootstrapping(Kind.PROGRESSING),
    /** Adding a member: learner, pod, catch-up, promotion. */
    ScalingUp(Kind.PROGRESSING),
    /** Removing a member. */
    ScalingDown(Kind.PROGRESSING),
    /** Moving leadership before a member leaves or restarts. */
    MovingLeader(Kind.PROGRESSING),
    /** A learner is receiving the log; it is promoted once it has caught up. */
    LearnerCatchingUp(Kind.PROGRESSING),
    /** The StatefulSet is resized to match the member list. */
    ResizingStatefulSet(Kind.PROGRESSING),
    /** Applying the reclaim policy to a removed member's claim. */
    ReclaimingStorage(Kind.PROGRESSING),
    /** Replacing a failed member. */
    ReplacingMember(Kind.PROGRESSING),
    /** Clearing a data dir that belongs to a removed member identity. */
    ResettingDataDir(Kind.PROGRESSING),
    /** Restarting members one at a time onto a new version. */
    Upgrading(Kind.PROGRESSING),
    /** Waiting for members to become healthy or catch up before the next step. */
    WaitingForMembers(Kind.PROGRESSING),
    /** Fewer than a quorum of voters are healthy: no step is taken. */
    QuorumLost(Kind.DEGRADED),
    /** A removal would leave fewer than a quorum of healthy voters: refused. */
    RemovalWouldLoseQuorum(Kind.DEGRADED),
    /** A restart would leave fewer than a quorum of healthy voters: refused. */
    RestartWouldLoseQuorum(Kind.DEGRADED),
    /** A replacement would leave fewer than a quorum of healthy voters: refused. */
    ReplacementWouldLoseQuorum(Kind.DEGRADED),
    /** A member is unhealthy but not yet for long enough to be replaced (or replacement is off). */
    MemberUnhealthy(Kind.DEGRADED),
    /** The member list contains a member the operator does not manage: it will not change membership. */
    UnmanagedMember(Kind.DEGRADED);

    /** Which condition a reason drives. */
    public enum Kind {
        /** Available, not progressing, not degraded. */
        STEADY,
        /** Progressing. */
        PROGRESSING,
        /** Degraded. */
        DEGRADED
    }

    private final Kind kind;

    Reason(Kind kind) {
        this.kind = kind;
    }

    /** The condition this reason drives. */
    public Kind kind() {
        return kind;
    }
}
