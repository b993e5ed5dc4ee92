package io.raftkv.operator.reconcile;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.raftkv.operator.api.v1alpha1.RaftCluster;
import io.raftkv.operator.driver.MembershipDriver;
import io.raftkv.operator.plan.Reason;
import io.raftkv.operator.plan.Step;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The reconciler against the fabric8 mock API server in CRUD mode, with {@link FakeRaftCluster}
 * standing in for the nodes and {@link #runStatefulSetController} for the StatefulSet controller
 * (the mock server runs no controllers). Applies a 5-member RaftCluster, then changes replicas and
 * version, asserting the owned objects, the status and every step.
 */
@EnableKubernetesMockClient(crud = true)
class RaftClusterReconcilerMockServerTest {
    private static final String NS = "test";

    KubernetesClient client;
    private FakeRaftCluster cluster;
    private RaftClusterReconciler reconciler;
    private SimpleMeterRegistry registry;
    private final KubernetesTopology topology = new KubernetesTopology("rk", NS);

    @BeforeEach
    void setUp() {
        cluster = new FakeRaftCluster(client, topology);
        registry = new SimpleMeterRegistry();
        reconciler = new RaftClusterReconciler(client, cluster, registry, Clock.systemUTC());
        RaftCluster rc = new RaftCluster();
        rc.getMetadata().setName("rk");
        rc.getMetadata().setNamespace(NS);
        rc.getMetadata().setGeneration(1L);
        rc.getSpec().setReplicas(5);
        rc.getSpec().setVersion("v1");
        client.resource(rc).create();
    }

    @Test
    void aFiveMemberClusterIsCreatedWithItsOwnedObjectsAndStatus() {
        MembershipDriver.Round first = reconcile();
        assertThat(first.step()).isInstanceOf(Step.Bootstrap.class);

        StatefulSet sts = client.apps().statefulSets().inNamespace(NS).withName("rk").get();
        assertThat(sts.getSpec().getReplicas()).isEqualTo(5);
        assertThat(sts.getSpec().getServiceName()).isEqualTo("rk-peer");
        assertThat(sts.getSpec().getPodManagementPolicy()).isEqualTo("Parallel");
        assertThat(sts.getSpec().getUpdateStrategy().getType()).isEqualTo("OnDelete");
        assertThat(sts.getSpec().getVolumeClaimTemplates()).singleElement()
                .satisfies(c -> assertThat(c.getSpec().getResources().getRequests().get("storage").toString())
                        .isEqualTo("1Gi"));
        var container = sts.getSpec().getTemplate().getSpec().getContainers().get(0);
        assertThat(container.getImage()).isEqualTo("raftkv/raftkv:v1");
        assertThat(container.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/readyz");
        assertThat(container.getReadinessProbe().getHttpGet().getPort().getIntVal()).isEqualTo(2381);
        assertThat(container.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/livez");
        assertThat(sts.getSpec().getTemplate().getSpec().getAffinity().getPodAntiAffinity()).isNotNull();

        Service peer = client.services().inNamespace(NS).withName("rk-peer").get();
        assertThat(peer.getSpec().getClusterIP()).isEqualTo("None");
        assertThat(peer.getSpec().getPublishNotReadyAddresses()).isTrue();
        Service clientSvc = client.services().inNamespace(NS).withName("rk-client").get();
        assertThat(clientSvc.getSpec().getPorts()).singleElement().satisfies(p -> assertThat(p.getPort()).isEqualTo(2379));
        PodDisruptionBudget pdb = client.policy().v1().podDisruptionBudget().inNamespace(NS).withName("rk").get();
        assertThat(pdb.getSpec().getMaxUnavailable().getIntVal()).as("(5-1)/2").isEqualTo(2);
        ConfigMap boot = client.configMaps().inNamespace(NS).withName("rk-bootstrap").get();
        assertThat(boot.getData()).containsEntry("initial-cluster-state", "new");
        assertThat(boot.getData().get("initial-cluster").split(",")).hasSize(5)
                .contains("rk-0=http://rk-0.rk-peer.test.svc:2380");
        for (HasMetadata owned : List.<HasMetadata>of(sts, peer, clientSvc, pdb, boot)) {
            assertThat(owned.getMetadata().getOwnerReferences()).as(owned.getKind() + " owner")
                    .singleElement().satisfies(o -> {
                        assertThat(o.getKind()).isEqualTo("RaftCluster");
                        assertThat(o.getUid()).isEqualTo(current().getMetadata().getUid());
                        assertThat(o.getController()).isTrue();
                    });
        }

        List<Step> steps = reconcileUntilReady();
        assertThat(steps).first().isEqualTo(new Step.FinishBootstrap());
        RaftCluster rc = current();
        assertThat(rc.getStatus().getObservedGeneration()).isEqualTo(1L);
        assertThat(rc.getStatus().getPhase()).isEqualTo("Running");
        assertThat(rc.getStatus().getReplicas()).isEqualTo(5);
        assertThat(rc.getStatus().getReadyReplicas()).isEqualTo(5);
        assertThat(rc.getStatus().getLeader()).isEqualTo("rk-0");
        assertThat(rc.getStatus().getCurrentVersion()).isEqualTo("v1");
        assertThat(rc.getStatus().getClientEndpoint()).isEqualTo("rk-client.test.svc:2379");
        assertThat(rc.getStatus().getMembers()).hasSize(5).allSatisfy(m -> {
            assertThat(m.isHealthy()).isTrue();
            assertThat(m.getRole()).isEqualTo(io.raftkv.operator.api.v1alpha1.MemberStatus.Role.voter);
        });
        assertThat(condition(rc, "Available").getStatus()).isEqualTo("True");
        assertThat(condition(rc, "Progressing").getStatus()).isEqualTo("False");
        assertThat(condition(rc, "Degraded").getStatus()).isEqualTo("False");
        ConfigMap clientMap = client.configMaps().inNamespace(NS).withName("rk-client").get();
        assertThat(clientMap.getData()).containsEntry("endpoint", "rk-client.test.svc:2379");
        assertThat(clientMap.getData().get("endpoints").split(",")).hasSize(5);
        assertThat(client.configMaps().inNamespace(NS).withName("rk-bootstrap").get().getData())
                .containsEntry("initial-cluster-state", "existing");
        assertThat(registry.get("raftkv_operator_reconciles_total").tag("result", "ok").counter().count())
                .isGreaterThan(1);
    }

    @Test
    void scalingDownRemovesMembersOneAtATimeThenShrinksTheStatefulSet() {
        reconcile();
        reconcileUntilReady();
        edit(rc -> rc.getSpec().setReplicas(3));

        List<Step> steps = reconcileUntilReady();
        assertThat(steps).filteredOn(s -> !(s instanceof Step.Wait)).containsExactly(
                new Step.RemoveMember(0x104, "rk-4", 4), new Step.ScaleStatefulSet(4),
                new Step.RemoveMember(0x103, "rk-3", 3), new Step.ScaleStatefulSet(3));
        assertThat(cluster.changes).containsExactly("remove 104", "remove 103");
        assertThat(client.apps().statefulSets().inNamespace(NS).withName("rk").get().getSpec().getReplicas()).isEqualTo(3);
        assertThat(client.policy().v1().podDisruptionBudget().inNamespace(NS).withName("rk").get().getSpec()
                .getMaxUnavailable().getIntVal()).isEqualTo(1);
        assertThat(current().getStatus().getObservedGeneration()).isEqualTo(2L);
        assertThat(current().getStatus().getMembers()).hasSize(3);
        assertThat(client.v1().events().inNamespace(NS).list().getItems())
                .extracting(e -> e.getReason()).contains(Reason.ScalingDown.name(), Reason.ResizingStatefulSet.name());
    }

    @Test
    void scalingUpAddsALearnerGrowsTheStatefulSetAndPromotes() {
        edit(rc -> rc.getSpec().setReplicas(3));
        reconcile();
        reconcileUntilReady();
        edit(rc -> rc.getSpec().setReplicas(5));

        List<Step> steps = reconcileUntilReady();
        assertThat(steps).filteredOn(s -> !(s instanceof Step.Wait)).containsExactly(
                new Step.AddLearner(3, "rk-3", topology.peerUrl(3)), new Step.ScaleStatefulSet(4),
                new Step.PromoteLearner(0x103, "rk-3"),
                new Step.AddLearner(4, "rk-4", topology.peerUrl(4)), new Step.ScaleStatefulSet(5),
                new Step.PromoteLearner(0x104, "rk-4"));
        assertThat(client.configMaps().inNamespace(NS).withName("rk-bootstrap").get().getData().get("admitted"))
                .as("admissions are withdrawn once the new members have started").isEmpty();
    }

    @Test
    void aVersionChangeRestartsFollowersFirstAndTheLeaderLastAfterMovingLeadership() {
        reconcile();
        reconcileUntilReady();
        edit(rc -> rc.getSpec().setVersion("v2"));

        List<Step> steps = reconcileUntilReady();
        List<Step> actions = steps.stream().filter(s -> !(s instanceof Step.Wait)).toList();
        assertThat(actions).containsExactly(
                new Step.RestartMember(1, "rk-1", "v2"), new Step.RestartMember(2, "rk-2", "v2"),
                new Step.RestartMember(3, "rk-3", "v2"), new Step.RestartMember(4, "rk-4", "v2"),
                new Step.MoveLeader(0x100, 0x101, Reason.Upgrading), new Step.RestartMember(0, "rk-0", "v2"));
        assertThat(client.pods().inNamespace(NS).list().getItems())
                .allSatisfy(p -> assertThat(p.getSpec().getContainers().get(0).getImage()).isEqualTo("raftkv/raftkv:v2"));
        assertThat(current().getStatus().getCurrentVersion()).isEqualTo("v2");
        assertThat(current().getStatus().getLeader()).isEqualTo("rk-1");
    }

    @Test
    void aPodReportingAFreshDataDirIsReplacedInOneJointChangeAndRestartedEmpty() {
        reconcile();
        reconcileUntilReady();
        cluster.down.add(2);
        client.pods().inNamespace(NS).withName("rk-2").editStatus(p -> {
            p.getStatus().setContainerStatuses(List.of(new io.fabric8.kubernetes.api.model.ContainerStatusBuilder()
                    .withName("raftkv").withReady(false).withNewLastState().withNewTerminated().withExitCode(3)
                    .withMessage("FreshDataDir").endTerminated().endLastState().build()));
            return p;
        });
        String claimUid = client.persistentVolumeClaims().inNamespace(NS).withName("data-rk-2").get().getMetadata().getUid();

        MembershipDriver.Round r = reconcile();
        assertThat(r.step()).isEqualTo(new Step.ReplaceMember(0x102, 2, "rk-2", topology.peerUrl(2),
                "its data dir is empty"));
        assertThat(client.configMaps().inNamespace(NS).withName("rk-bootstrap").get().getData().get("admitted"))
                .as("the fresh member may start on an empty data dir").isEqualTo("rk-2");
        assertThat(client.persistentVolumeClaims().inNamespace(NS).withName("data-rk-2").get().getMetadata().getUid())
                .as("the claim was recreated empty").isNotEqualTo(claimUid);
        cluster.down.clear();
        reconcileUntilReady();
        assertThat(cluster.changes).containsExactly("replace 102");
        assertThat(current().getStatus().getMembers()).hasSize(5).allSatisfy(m -> assertThat(m.isHealthy()).isTrue());
        assertThat(client.v1().events().inNamespace(NS).list().getItems()).extracting(e -> e.getReason())
                .contains(Reason.ReplacingMember.name());
    }

    @Test
    void withQuorumLostTheStatusSaysDegradedQuorumLostAndNothingIsChanged() {
        reconcile();
        reconcileUntilReady();
        edit(rc -> rc.getSpec().setReplicas(3));
        cluster.down.addAll(List.of(1, 2, 3));

        for (int i = 0; i < 3; i++) {
            assertThat(reconcile().step().reason()).isEqualTo(Reason.QuorumLost);
        }
        RaftCluster rc = current();
        assertThat(condition(rc, "Degraded").getStatus()).isEqualTo("True");
        assertThat(condition(rc, "Degraded").getReason()).isEqualTo("QuorumLost");
        assertThat(condition(rc, "Available").getStatus()).isEqualTo("False");
        assertThat(rc.getStatus().getPhase()).isEqualTo("Degraded");
        assertThat(cluster.changes).as("no membership change without quorum").isEmpty();
        assertThat(client.apps().statefulSets().inNamespace(NS).withName("rk").get().getSpec().getReplicas()).isEqualTo(5);
    }

    private MembershipDriver.Round reconcile() {
        MembershipDriver.Round r = reconciler.reconcileOnce(current());
        runStatefulSetController();
        return r;
    }

    /** Reconciles until the step is Ready; returns the steps taken. Fails after 60 rounds. */
    private List<Step> reconcileUntilReady() {
        List<Step> steps = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            MembershipDriver.Round r = reconcile();
            assertThat(r.failure()).as("round " + i + ": " + r.step()).isEmpty();
            if (r.step().reason() == Reason.Ready) {
                return steps;
            }
            steps.add(r.step());
        }
        throw new AssertionError("not ready after 60 rounds: " + steps);
    }

    private RaftCluster current() {
        return client.resources(RaftCluster.class).inNamespace(NS).withName("rk").get();
    }

    private void edit(java.util.function.Consumer<RaftCluster> change) {
        RaftCluster rc = current();
        change.accept(rc);
        rc.getMetadata().setGeneration(rc.getMetadata().getGeneration() + 1);
        client.resource(rc).update();
    }

    private static Condition condition(RaftCluster rc, String type) {
        return rc.getStatus().getConditions().stream().filter(c -> c.getType().equals(type)).findFirst().orElseThrow();
    }

    /** What the StatefulSet controller would do: pods 0..replicas-1 from the template, with claims; others deleted. */
    private void runStatefulSetController() {
        StatefulSet sts = client.apps().statefulSets().inNamespace(NS).withName("rk").get();
        if (sts == null) {
            return;
        }
        int replicas = sts.getSpec().getReplicas();
        for (int i = 0; i < 8; i++) {
            String name = "rk-" + i;
            Pod pod = client.pods().inNamespace(NS).withName(name).get();
            if (i < replicas && pod == null) {
                client.resource(new PodBuilder().withNewMetadata().withName(name).withNamespace(NS)
                        .withLabels(Map.copyOf(sts.getSpec().getTemplate().getMetadata().getLabels())).endMetadata()
                        .withSpec(sts.getSpec().getTemplate().getSpec())
                        .withNewStatus().addNewCondition().withType("Ready").withStatus("True").endCondition().endStatus()
                        .build()).create();
                if (client.persistentVolumeClaims().inNamespace(NS).withName("data-" + name).get() == null) {
                    client.resource(new PersistentVolumeClaimBuilder().withNewMetadata().withName("data-" + name)
                            .withNamespace(NS).endMetadata().build()).create();
                }
            } else if (i >= replicas && pod != null) {
                client.resource(pod).delete();
            }
        }
    }
}
