package io.raftkv.e2e.jepsen;

/** The faults a {@link Nemesis} can inject; each is undone at the end of its window. */
enum Fault {
    /** kill -9 of a member (the leader every other time); restarted on its data dir when the window ends. */
    KILL(false),
    /** SIGSTOP of a member (the leader when one is known) for the window, longer than the election timeout; then SIGCONT. */
    PAUSE(false),
    /** The leader cut off from every other member, both ways. */
    PARTITION_LEADER(true),
    /** A random minority cut off from the majority, both ways. */
    PARTITION_HALVES(true),
    /** Two sides that cannot reach each other and one member that reaches both (Jepsen's "bridge"). */
    PARTITION_BRIDGE(true),
    /** Packets from the leader to the others dropped, while theirs to the leader still arrive. */
    PARTITION_ONE_WAY(true),
    /** MemberRemove of a random member, then MemberAdd and start of a fresh one, under load. */
    MEMBERSHIP(false),
    /** Two members replaced by two fresh ones in one raftkv ChangeMembers call (joint consensus); raftkv only. */
    REPLACE_TWO(false),
    /**
     * A member's data directory (its own size-limited tmpfs) filled to the last byte for the window;
     * the filler is deleted at the end and the member restarted if it exited.
     */
    DISK_FULL(false);

    private final boolean partition;

    Fault(boolean partition) {
        this.partition = partition;
    }

    /** True if this fault cuts packets (needs {@link Net#canPartition()}). */
    boolean partition() {
        return partition;
    }
}
