package io.raftkv.operator.plan;

import java.util.List;

/**
 * The one next thing to do. Membership steps ({@link #isMembershipChange()}) each make a single
 * configuration change through the cluster's API; the others act on Kubernetes objects only.
 */
public sealed interface Step {

    /** Why this step: the condition and Event reason. */
    Reason reason();

    /** A human-readable description for logs, Events and condition messages. */
    String describe();

    /** Whether this step changes the Raft configuration. */
    default boolean isMembershipChange() {
        return false;
    }

    /** Write the bootstrap configuration (state new, the full initial member list) and start all members. */
    record Bootstrap(int replicas, List<String> initialCluster) implements Step {
        /** Copies the list. */
        public Bootstrap {
            initialCluster = List.copyOf(initialCluster);
        }

        @Override
        public Reason reason() {
            return Reason.Bootstrapping;
        }

        @Override
        public String describe() {
            return "bootstrap a " + replicas + "-member cluster";
        }
    }

    /** Mark bootstrapping done: members started from now on with an empty data dir join an existing cluster. */
    record FinishBootstrap() implements Step {
        @Override
        public Reason reason() {
            return Reason.Bootstrapping;
        }

        @Override
        public String describe() {
            return "bootstrap finished: new members join with --initial-cluster-state existing";
        }
    }

    /** MemberAdd as a learner for ordinal {@code ordinal} (etcd: learners do not vote until promoted). */
    record AddLearner(int ordinal, String name, String peerUrl) implements Step {
        @Override
        public Reason reason() {
            return Reason.ScalingUp;
        }

        @Override
        public String describe() {
            return "add " + name + " (" + peerUrl + ") as a learner";
        }

        @Override
        public boolean isMembershipChange() {
            return true;
        }
    }

    /** MemberPromote: the learner has caught up and becomes a voter. */
    record PromoteLearner(long id, String name) implements Step {
        @Override
        public Reason reason() {
            return Reason.ScalingUp;
        }

        @Override
        public String describe() {
            return "promote learner " + name + " (" + Long.toHexString(id) + ") to voter";
        }

        @Override
        public boolean isMembershipChange() {
            return true;
        }
    }

    /** MoveLeader: hand leadership to {@code toId} before {@code fromId} leaves or restarts. */
    record MoveLeader(long fromId, long toId, Reason because) implements Step {
        @Override
        public Reason reason() {
            return Reason.MovingLeader;
        }

        @Override
        public String describe() {
            return "move leadership from " + Long.toHexString(fromId) + " to " + Long.toHexString(toId)
                    + " (" + because + ")";
        }
    }

    /** MemberRemove of the highest ordinal. */
    record RemoveMember(long id, String name, int ordinal) implements Step {
        @Override
        public Reason reason() {
            return Reason.ScalingDown;
        }

        @Override
        public String describe() {
            return "remove member " + name + " (" + Long.toHexString(id) + ")";
        }

        @Override
        public boolean isMembershipChange() {
            return true;
        }
    }

    /** Resize the StatefulSet to match the member list. */
    record ScaleStatefulSet(int replicas) implements Step {
        @Override
        public Reason reason() {
            return Reason.ResizingStatefulSet;
        }

        @Override
        public String describe() {
            return "resize the StatefulSet to " + replicas;
        }
    }

    /** Delete the claim of an ordinal that is no longer a member (reclaim policy Delete). */
    record ReclaimClaim(int ordinal) implements Step {
        @Override
        public Reason reason() {
            return Reason.ReclaimingStorage;
        }

        @Override
        public String describe() {
            return "delete the data volume claim of ordinal " + ordinal;
        }
    }

    /**
     * Replace a failed member: remove {@code oldId} and add a fresh voter with the same name and peer
     * URL in one joint configuration change (raftkv.v1.Membership/ChangeMembers).
     */
    record ReplaceMember(long oldId, int ordinal, String name, String peerUrl, String cause) implements Step {
        @Override
        public Reason reason() {
            return Reason.ReplacingMember;
        }

        @Override
        public String describe() {
            return "replace member " + name + " (" + Long.toHexString(oldId) + "): " + cause;
        }

        @Override
        public boolean isMembershipChange() {
            return true;
        }
    }

    /**
     * Clear the data dir of a pod whose process runs as a member id that is not the listed member for its
     * peer URL (a replaced identity), so that it starts empty and joins as the listed member.
     */
    record ResetDataDir(int ordinal, long staleId) implements Step {
        @Override
        public Reason reason() {
            return Reason.ResettingDataDir;
        }

        @Override
        public String describe() {
            return "clear the data dir of ordinal " + ordinal + " (it holds removed member "
                    + Long.toHexString(staleId) + ")";
        }
    }

    /** Restart one member onto {@code version} (its pod is recreated from the updated template). */
    record RestartMember(int ordinal, String name, String version) implements Step {
        @Override
        public Reason reason() {
            return Reason.Upgrading;
        }

        @Override
        public String describe() {
            return "restart " + name + " on version " + version;
        }
    }

    /** Nothing to do now: wait and observe again. */
    record Wait(Reason reason, String message) implements Step {
        @Override
        public String describe() {
            return message;
        }
    }
}
