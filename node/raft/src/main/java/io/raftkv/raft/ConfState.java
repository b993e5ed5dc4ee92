package io.raftkv.raft;

import java.util.Set;

/**
 * A cluster configuration as stored with snapshots. During joint consensus (Raft §6, thesis §4.3)
 * {@code votersOutgoing} is non-empty and decisions need majorities of both {@code voters} and
 * {@code votersOutgoing}. {@code learnersNext} holds voters of the outgoing configuration that
 * become learners when the joint configuration is left (etcd's LearnersNext).
 *
 * @param voters         incoming (or only) voter set
 * @param learners       learners: receive the log, never vote, never count toward quorum
 * @param votersOutgoing outgoing voter set while joint, else empty
 * @param learnersNext   outgoing voters that become learners on leaving the joint config
 * @param autoLeave      whether the leader proposes leaving the joint config by itself
 */
public record ConfState(Set<Long> voters, Set<Long> learners, Set<Long> votersOutgoing,
                        Set<Long> learnersNext, boolean autoLeave) {
    /** Empty configuration (a fresh node that will learn its configuration from a snapshot). */
    public static final ConfState EMPTY = new ConfState(Set.of(), Set.of(), Set.of(), Set.of(), false);

    public ConfState {
        voters = Set.copyOf(voters);
        learners = Set.copyOf(learners);
        votersOutgoing = Set.copyOf(votersOutgoing);
        learnersNext = Set.copyOf(learnersNext);
    }

    /** A simple (non-joint) configuration of voters only. */
    public static ConfState ofVoters(Set<Long> voters) {
        return new ConfState(voters, Set.of(), Set.of(), Set.of(), false);
    }

    /** True while in a joint configuration. */
    public boolean isJoint() {
        return !votersOutgoing.isEmpty();
    }
}
