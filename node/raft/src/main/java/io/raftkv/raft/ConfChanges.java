package io.raftkv.raft;

import java.util.HashSet;
import java.util.Set;

/**
 * The pure function from (configuration, change) to the next configuration, shared by the core
 * and the application (which uses it to know the configuration at its applied index).
 *
 * <p>A non-empty change enters the joint configuration C_old,new: the outgoing voters are the
 * current voters and the changes are applied to the incoming set (thesis §4.3). A voter demoted
 * to learner stays an outgoing voter and becomes a learner on leaving ({@code learnersNext}).
 * The empty change leaves the joint configuration.
 */
public final class ConfChanges {
    private ConfChanges() {
    }

    /**
     * Returns the configuration after {@code cc}.
     *
     * @throws IllegalArgumentException if the change is invalid in {@code cs}: entering joint
     *                                  while joint, leaving while not joint, or leaving no voter
     */
    public static ConfState apply(ConfState cs, ConfChange cc) {
        if (cc.isLeaveJoint()) {
            if (!cs.isJoint()) {
                throw new IllegalArgumentException("cannot leave a configuration that is not joint");
            }
            Set<Long> learners = new HashSet<>(cs.learners());
            learners.addAll(cs.learnersNext());
            return new ConfState(cs.voters(), learners, Set.of(), Set.of(), false);
        }
        if (cs.isJoint()) {
            throw new IllegalArgumentException("configuration is already joint");
        }
        Set<Long> voters = new HashSet<>(cs.voters());
        Set<Long> learners = new HashSet<>(cs.learners());
        Set<Long> learnersNext = new HashSet<>();
        Set<Long> outgoing = cs.voters();
        for (ConfChange.Change c : cc.changes()) {
            long id = c.nodeId();
            if (id == RaftNode.NONE) {
                throw new IllegalArgumentException("node id 0 is reserved");
            }
            switch (c.type()) {
                case ADD_VOTER -> {
                    voters.add(id);
                    learners.remove(id);
                    learnersNext.remove(id);
                }
                case ADD_LEARNER -> {
                    voters.remove(id);
                    if (outgoing.contains(id)) {
                        learnersNext.add(id);
                    } else {
                        learners.add(id);
                    }
                }
                case REMOVE -> {
                    voters.remove(id);
                    learners.remove(id);
                    learnersNext.remove(id);
                }
            }
        }
        if (voters.isEmpty()) {
            throw new IllegalArgumentException("removing all voters is not allowed");
        }
        // From an empty configuration (bootstrap) there is nothing to leave: not joint.
        return new ConfState(voters, learners, outgoing, learnersNext, !outgoing.isEmpty());
    }
}
