package io.raftkv.operator.driver;

import io.raftkv.operator.plan.Observed;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The pods, volumes and bootstrap configuration of one cluster. In Kubernetes: the StatefulSet,
 * its pods and claims, and the bootstrap ConfigMap. Methods block until the change is accepted
 * (not until pods have restarted) and throw on failure.
 *
 * <p>The pod start rule every implementation follows (the node image's entrypoint does it in
 * Kubernetes): a member with a non-empty data dir starts from it; one with an empty data dir starts
 * with {@code --initial-cluster-state new} while bootstrapping, afterwards with {@code existing}
 * only if its ordinal is admitted, and otherwise does not start and reports a fresh data dir.
 * Without that rule a member whose data was lost would rejoin under its old identity with an empty
 * log, forgetting its votes (Raft §5.2 requires votes to be durable).
 */
public interface Workloads {

    /**
     * A pod as the workload layer sees it.
     *
     * @param ordinal its ordinal
     * @param version image tag of its node container
     * @param freshDataDir it found an empty data dir it was not admitted to start with
     * @param notReadySince since when it has not been ready, empty when ready
     */
    record PodState(int ordinal, String version, boolean freshDataDir, Optional<Instant> notReadySince) {}

    /** State of the bootstrap configuration. */
    Observed.BootstrapState bootstrapState();

    /** The StatefulSet's desired replicas, 0 if it does not exist. */
    int statefulSetReplicas();

    /** Pods that exist. */
    List<PodState> pods();

    /** Ordinals that have a data volume claim. */
    Set<Integer> claimOrdinals();

    /** Writes the bootstrap configuration (state new, {@code initialCluster}) and starts {@code replicas} pods. */
    void bootstrap(List<String> initialCluster, int replicas);

    /** Switches the bootstrap configuration to state existing. */
    void finishBootstrap();

    /** Publishes which ordinals may start with an empty data dir (members added but never started). */
    void admit(Set<Integer> ordinals);

    /** Resizes the StatefulSet. */
    void scale(int replicas);

    /** Deletes the claim (and so the data) of an ordinal that has no pod. */
    void deleteClaim(int ordinal);

    /** Deletes the pod and its claim, so that the pod comes back with an empty data dir. */
    void resetDataDir(int ordinal);

    /** Restarts the pod of {@code ordinal} on {@code version}, keeping its data dir. */
    void restart(int ordinal, String version);
}
