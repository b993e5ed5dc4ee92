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
    MEMBERSHIP(false);

    private final boolean partition;

    Fault(boolean partition) {
        this.partition = partition;
    }

    /** True if this fault cuts packets (needs {@link Net#canPartition()}). */
    boolean partition() {
        return partition;
    }
}
