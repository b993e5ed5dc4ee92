package io.raftkv.operator.reconcile;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.raftkv.operator.api.v1alpha1.MemberReplacement;
import io.raftkv.operator.api.v1alpha1.RaftCluster;
import io.raftkv.operator.api.v1alpha1.RaftClusterSpec;
import io.raftkv.operator.api.v1alpha1.RaftClusterStatus;
import io.raftkv.operator.api.v1alpha1.StorageSpec;
import io.raftkv.operator.driver.ClusterObserver;
import io.raftkv.operator.driver.MembershipDriver;
import io.raftkv.operator.driver.StepListener;
import io.raftkv.operator.member.MemberClient;
import io.raftkv.operator.plan.Desired;
import io.raftkv.operator.plan.Observed;
import io.raftkv.operator.plan.Reason;
import io.raftkv.operator.plan.Step;

import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.logging.Logger;

/**
 * Reconciles one RaftCluster: ensure the owned objects, run one membership-driver round (observe,
 * plan, execute one step), write the status, requeue (soon while work is under way, slowly once
 * ready). Holds no per-cluster state: a restarted operator resumes from what it observes.
 */
@ControllerConfiguration(name = "raftcluster")
public class RaftClusterReconciler implements Reconciler<RaftCluster> {
    private static final Logger LOG = Logger.getLogger(RaftClusterReconciler.class.getName());
    /** Requeue delay while a step is under way. */
    public static final Duration BUSY_REQUEUE = Duration.ofSeconds(2);
    /** Requeue delay once the cluster matches its spec (health is still re-checked). */
    public static final Duration IDLE_REQUEUE = Duration.ofSeconds(30);

    private final KubernetesClient client;
    private final MemberClient members;
    private final MeterRegistry registry;
    private final Clock clock;

    /** A reconciler using {@code client} for Kubernetes and {@code members} for the raftkv clusters. */
    public RaftClusterReconciler(KubernetesClient client, MemberClient members, MeterRegistry registry, Clock clock) {
        this.client = client;
        this.members = members;
        this.registry = registry;
        this.clock = clock;
    }

    @Override
    public UpdateControl<RaftCluster> reconcile(RaftCluster rc, Context<RaftCluster> context) {
        MembershipDriver.Round round = reconcileOnce(rc);
        boolean idle = round.step().reason() == Reason.Ready && round.failure().isEmpty();
        return UpdateControl.<RaftCluster>noUpdate().rescheduleAfter(idle ? IDLE_REQUEUE : BUSY_REQUEUE);
    }

    /** One full round for {@code rc}, status written; the round's outcome is returned. Blocking. */
    public MembershipDriver.Round reconcileOnce(RaftCluster rc) {
        Timer.Sample sample = Timer.start(registry);
        String name = rc.getMetadata().getName();
        KubernetesTopology topology = new KubernetesTopology(name, rc.getMetadata().getNamespace());
        KubernetesWorkloads workloads = new KubernetesWorkloads(client, topology);
        ensureOwnedObjects(rc, topology, workloads);
        StepListener events = (step, observed, failure) -> recordStep(rc, step, failure);
        MembershipDriver driver = new MembershipDriver(topology, workloads, members,
                new ClusterObserver(topology, workloads, members, clock), events);
        MembershipDriver.Round round = driver.reconcileOnce(desired(rc.getSpec()));
        RaftClusterStatus status = StatusBuilder.build(rc, topology, topology.clientEndpoint(), round.observed(),
                round.step(), round.failure());
        int memberCount = Math.max(round.observed().members().size(), round.observed().statefulSetReplicas());
        apply(ClusterResources.clientConfigMap(rc, topology, memberCount));
        rc.setStatus(status);
        client.resources(RaftCluster.class).inNamespace(rc.getMetadata().getNamespace()).withName(name)
                .editStatus(latest -> {
                    latest.setStatus(status);
                    return latest;
                });
        String result = round.failure().isPresent() ? "failed" : "ok";
        sample.stop(Timer.builder("raftkv_operator_reconcile_duration").tag("result", result)
                .description("Time of one reconcile round.").register(registry));
        Counter.builder("raftkv_operator_reconciles_total").tag("result", result)
                .description("Reconcile rounds, by result.").register(registry).increment();
        return round;
    }

    /** The planner's view of the spec. */
    public static Desired desired(RaftClusterSpec spec) {
        MemberReplacement r = spec.getMemberReplacement() == null ? new MemberReplacement() : spec.getMemberReplacement();
        StorageSpec st = spec.getStorage() == null ? new StorageSpec() : spec.getStorage();
        return new Desired(spec.getReplicas(), spec.getVersion(), st.getReclaimPolicy() == StorageSpec.ReclaimPolicy.Delete,
                r.isEnabled(), MemberReplacement.parseDuration(r.getUnhealthyAfter()));
    }

    private void ensureOwnedObjects(RaftCluster rc, KubernetesTopology t, KubernetesWorkloads workloads) {
        apply(ClusterResources.peerService(rc, t));
        apply(ClusterResources.clientService(rc, t));
        apply(ClusterResources.disruptionBudget(rc));
        ConfigMap current = client.configMaps().inNamespace(t.namespace()).withName(t.bootstrapConfigMapName()).get();
        apply(ClusterResources.bootstrapConfigMap(rc, t, current));
        StatefulSet sts = ClusterResources.statefulSet(rc, t, workloads.statefulSetReplicas());
        apply(sts);
    }

    private <T extends HasMetadata> void apply(T object) {
        client.resource(object).createOr(NonDeletingOperation::update);
    }

    private void recordStep(RaftCluster rc, Step step, Optional<Throwable> failure) {
        Counter.builder("raftkv_operator_steps_total").tag("step", step.getClass().getSimpleName())
                .tag("reason", step.reason().name()).tag("result", failure.isPresent() ? "failed" : "ok")
                .description("Planned steps executed, by kind and outcome.").register(registry).increment();
        if (step instanceof Step.Wait && failure.isEmpty()) {
            return;
        }
        String message = step.describe() + failure.map(f -> ": failed: " + f.getMessage()).orElse("");
        LOG.info(rc.getMetadata().getNamespace() + "/" + rc.getMetadata().getName() + ": " + message);
        String now = clock.instant().toString();
        try {
            client.v1().events().inNamespace(rc.getMetadata().getNamespace()).resource(new EventBuilder()
                    .withNewMetadata().withName(rc.getMetadata().getName() + "." + Long.toHexString(System.nanoTime()))
                    .withNamespace(rc.getMetadata().getNamespace()).endMetadata()
                    .withInvolvedObject(new ObjectReferenceBuilder().withApiVersion(rc.getApiVersion())
                            .withKind(rc.getKind()).withName(rc.getMetadata().getName())
                            .withNamespace(rc.getMetadata().getNamespace()).withUid(rc.getMetadata().getUid()).build())
                    .withReason(step.reason().name()).withMessage(message.length() > 1000 ? message.substring(0, 1000) : message)
                    .withType(failure.isPresent() ? "Warning" : "Normal").withFirstTimestamp(now).withLastTimestamp(now)
                    .withCount(1).withNewSource().withComponent("raftkv-operator").endSource().build()).create();
        } catch (KubernetesClientException e) {
            LOG.warning("could not record an Event: " + e.getMessage());
        }
    }

}
