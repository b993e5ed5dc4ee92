package io.raftkv.operator.plan;

import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * One observation of a cluster, taken just before planning: the workload side (StatefulSet size,
 * pods, claims, bootstrap configuration) and the cluster side (member list, per-member status).
 *
 * @param bootstrap state of the bootstrap configuration
 * @param statefulSetReplicas the StatefulSet's spec.replicas (0 when it does not exist)
 * @param pods pods that exist, one per ordinal
 * @param claimOrdinals ordinals that have a data volume claim
 * @param memberListKnown whether some member answered the member list
 * @param members the member list with what each member reported about itself
 * @param leaderId the leader's member id, 0 when none is known
 * @param now when the observation was taken
 */
public record Observed(BootstrapState bootstrap, int statefulSetReplicas, List<PodView> pods, Set<Integer> claimOrdinals,
        boolean memberListKnown, List<MemberView> members, long leaderId, Instant now) {

    /** Copies the collections. */
    public Observed {
        Objects.requireNonNull(bootstrap, "bootstrap");
        pods = List.copyOf(pods);
        claimOrdinals = Set.copyOf(claimOrdinals);
        members = List.copyOf(members);
        Objects.requireNonNull(now, "now");
    }

    /** Where bootstrapping stands, as recorded in the bootstrap configuration. */
    public enum BootstrapState {
        /** No configuration yet: the cluster has never been started. */
        NONE,
        /** Members start with {@code --initial-cluster-state new} and the full initial member list. */
        NEW,
        /** Bootstrapped: a member with an empty data dir joins with {@code --initial-cluster-state existing}. */
        EXISTING
    }

    /**
     * A pod of the StatefulSet.
     *
     * @param ordinal its ordinal
     * @param version the image tag its node container runs
     * @param freshDataDir the pod reported an empty data dir that it was not admitted to join with
     * @param runningMemberId the member id the process answers as, 0 when unknown
     */
    public record PodView(int ordinal, String version, boolean freshDataDir, long runningMemberId) {}

    /**
     * A member from the member list, with what it reported about itself.
     *
     * @param id member id
     * @param name published name ("" until the member first starts, unless added with a name)
     * @param peerUrl first advertised peer URL
     * @param learner true for a learner
     * @param started whether the member has published its client URLs, i.e. has run
     * @param healthy whether it answered and knows a leader
     * @param appliedIndex last applied Raft index it reported (0 when it did not answer)
     * @param version version it reported ("" when it did not answer)
     * @param unhealthySince since when it has been unhealthy, empty when healthy
     */
    public record MemberView(long id, String name, String peerUrl, boolean learner, boolean started, boolean healthy,
            long appliedIndex, String version, Optional<Instant> unhealthySince) {}

    /** The pod with this ordinal, if it exists. */
    public Optional<PodView> pod(int ordinal) {
        return pods.stream().filter(p -> p.ordinal() == ordinal).findFirst();
    }

    /** The member with this id, if listed. */
    public Optional<MemberView> member(long id) {
        return members.stream().filter(m -> m.id() == id).findFirst();
    }
}
