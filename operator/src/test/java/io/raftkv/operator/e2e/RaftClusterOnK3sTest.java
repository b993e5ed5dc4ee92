package io.raftkv.operator.e2e;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.raftkv.operator.api.v1alpha1.RaftCluster;
import org.junit.jupiter.api.Test;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.k3s.K3sContainer;
import org.testcontainers.utility.DockerImageName;
import org.testcontainers.utility.MountableFile;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The operator end to end on k3s (testcontainers-k3s): install {@code deploy/}, create the 3-member
 * sample, scale it to 5, replace a member whose volume was deleted, upgrade it, scale back to 3.
 * Needs a Docker engine and the two images saved as tarballs in {@code -Draftkv.images.dir}
 * ({@code raftkv-node.tar} tagged {@code raftkv/raftkv:0.1.0}, {@code raftkv-operator.tar} tagged
 * {@code raftkv/raftkv-operator:0.1.0}; see the README). Reported as skipped, never passed, where
 * either is missing.
 */
class RaftClusterOnK3sTest {
    private static final Duration STEP_DEADLINE = Duration.ofMinutes(10);

    @Test
    void sampleClusterScalesReplacesAMemberAndUpgradesOnK3s() throws Exception {
        assumeTrue(dockerAvailable(), "no Docker engine: the k3s end-to-end test needs one");
        Path images = Path.of(System.getProperty("raftkv.images.dir", "target/images"));
        assumeTrue(Files.exists(images.resolve("raftkv-node.tar")) && Files.exists(images.resolve("raftkv-operator.tar")),
                "image tarballs missing in " + images + " (docker save, see README)");
        Path root = Path.of(System.getProperty("raftkv.repo.dir", ".."));
        try (K3sContainer k3s = new K3sContainer(DockerImageName.parse("rancher/k3s:v1.31.4-k3s1"))) {
            k3s.start();
            for (String tar : List.of("raftkv-node.tar", "raftkv-operator.tar")) {
                k3s.copyFileToContainer(MountableFile.forHostPath(images.resolve(tar)), "/tmp/" + tar);
                assertThat(k3s.execInContainer("ctr", "-n", "k8s.io", "images", "import", "/tmp/" + tar).getExitCode())
                        .isZero();
            }
            assertThat(k3s.execInContainer("ctr", "-n", "k8s.io", "images", "tag",
                    "docker.io/raftkv/raftkv:0.1.0", "docker.io/raftkv/raftkv:0.1.1").getExitCode()).isZero();
            try (KubernetesClient kube = new KubernetesClientBuilder()
                    .withConfig(Config.fromKubeconfig(k3s.getKubeConfigYaml())).build()) {
                for (String f : List.of("namespace.yaml", "crd/raftclusters.raftkv.io-v1.yml", "service-account.yaml",
                        "rbac.yaml", "operator.yaml")) {
                    apply(kube, root.resolve("deploy").resolve(f), "raftkv-system");
                }
                apply(kube, root.resolve("deploy/samples/raftcluster-3.yaml"), "default");
                var clusters = kube.resources(RaftCluster.class).inNamespace("default");
                awaitStatus(kube, rc -> "Running".equals(rc.getStatus().getPhase())
                        && Integer.valueOf(3).equals(rc.getStatus().getReadyReplicas()));

                clusters.withName("raftkv-small").edit(rc -> {
                    rc.getSpec().setReplicas(5);
                    return rc;
                });
                awaitStatus(kube, rc -> Integer.valueOf(5).equals(rc.getStatus().getReadyReplicas())
                        && "Running".equals(rc.getStatus().getPhase()));

                String oldId = clusters.withName("raftkv-small").get().getStatus().getMembers().stream()
                        .filter(m -> m.getName().equals("raftkv-small-1")).findFirst().orElseThrow().getId();
                kube.persistentVolumeClaims().inNamespace("default").withName("data-raftkv-small-1").delete();
                kube.pods().inNamespace("default").withName("raftkv-small-1").delete();
                awaitStatus(kube, rc -> "Running".equals(rc.getStatus().getPhase())
                        && Integer.valueOf(5).equals(rc.getStatus().getReadyReplicas())
                        && rc.getStatus().getMembers().stream().noneMatch(m -> m.getId().equals(oldId)));

                clusters.withName("raftkv-small").edit(rc -> {
                    rc.getSpec().setVersion("0.1.1");
                    return rc;
                });
                awaitStatus(kube, rc -> "0.1.1".equals(rc.getStatus().getCurrentVersion())
                        && "Running".equals(rc.getStatus().getPhase()));

                clusters.withName("raftkv-small").edit(rc -> {
                    rc.getSpec().setReplicas(3);
                    return rc;
                });
                awaitStatus(kube, rc -> Integer.valueOf(3).equals(rc.getStatus().getReplicas())
                        && "Running".equals(rc.getStatus().getPhase()));
            }
        }
    }

    private static boolean dockerAvailable() {
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException e) {
            return false;
        }
    }

    private static void apply(KubernetesClient kube, Path file, String namespace) throws Exception {
        byte[] yaml = Files.readString(file).getBytes(StandardCharsets.UTF_8);
        for (HasMetadata o : kube.load(new ByteArrayInputStream(yaml)).items()) {
            kube.resource(o).inNamespace(namespace).serverSideApply();
        }
    }

    private static void awaitStatus(KubernetesClient kube, Predicate<RaftCluster> done) {
        await().atMost(STEP_DEADLINE).pollInterval(Duration.ofSeconds(5)).until(() -> {
            RaftCluster rc = kube.resources(RaftCluster.class).inNamespace("default").withName("raftkv-small").get();
            return rc != null && rc.getStatus() != null && done.test(rc);
        });
    }
}
