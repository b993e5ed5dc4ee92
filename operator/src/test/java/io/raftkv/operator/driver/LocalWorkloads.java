package io.raftkv.operator.driver;

import io.raftkv.operator.plan.Observed.BootstrapState;
import io.raftkv.operator.plan.Topology;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * {@link Workloads} as real raftkv node processes on 127.0.0.1: "pod" {@code i} is a process of the
 * packaged node, its "claim" a data dir. Like the kubelet, every call to {@link #pods()} restarts
 * a pod that should run but does not, applying the start rule of the node image's entrypoint
 * (see {@link Workloads}). Thread-safe (all methods synchronized).
 */
final class LocalWorkloads implements Workloads, AutoCloseable {
    private final Path root;
    private final Path jar;
    private final String token = "op-it-" + Long.toHexString(System.nanoTime());
    private final int[] clientPorts = new int[Topology.MAX_ORDINALS];
    private final int[] peerPorts = new int[Topology.MAX_ORDINALS];
    private final int[] metricsPorts = new int[Topology.MAX_ORDINALS];
    private final Process[] procs = new Process[Topology.MAX_ORDINALS];
    private final String[] versions = new String[Topology.MAX_ORDINALS];
    private final boolean[] fresh = new boolean[Topology.MAX_ORDINALS];
    private BootstrapState state = BootstrapState.NONE;
    private List<String> initialCluster = List.of();
    private Set<Integer> admitted = Set.of();
    private int replicas;
    private String version = "v1";

    LocalWorkloads(Path root, Path jar) throws IOException {
        this.root = root;
        this.jar = jar;
        for (int i = 0; i < Topology.MAX_ORDINALS; i++) {
            clientPorts[i] = freePort();
            peerPorts[i] = freePort();
            metricsPorts[i] = freePort();
        }
    }

    /** The layout of this cluster: member m-i at its own ports. */
    Topology topology() {
        return new Topology() {
            @Override
            public String memberName(int ordinal) {
                return "m-" + ordinal;
            }

            @Override
            public String peerUrl(int ordinal) {
                return "http://127.0.0.1:" + peerPorts[ordinal];
            }

            @Override
            public String clientUrl(int ordinal) {
                return "http://127.0.0.1:" + clientPorts[ordinal];
            }
        };
    }

    /** Client URLs of the pods whose processes run. */
    synchronized List<String> runningEndpoints() {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < Topology.MAX_ORDINALS; i++) {
            if (procs[i] != null && procs[i].isAlive()) {
                out.add(topology().clientUrl(i));
            }
        }
        return out;
    }

    /** The template version new pods get (the StatefulSet's image tag). */
    synchronized void setTemplateVersion(String v) {
        version = v;
    }

    /** Simulates a lost volume: kills the process and deletes its data dir; the pod then restarts empty. */
    synchronized void wipe(int ordinal) {
        stop(ordinal, true);
        deleteDir(ordinal);
        startPods();
    }

    @Override
    public synchronized BootstrapState bootstrapState() {
        return state;
    }

    @Override
    public synchronized int statefulSetReplicas() {
        return replicas;
    }

    @Override
    public synchronized List<PodState> pods() {
        startPods();
        List<PodState> out = new ArrayList<>();
        for (int i = 0; i < replicas; i++) {
            out.add(new PodState(i, versions[i], fresh[i], Optional.empty()));
        }
        return out;
    }

    @Override
    public synchronized Set<Integer> claimOrdinals() {
        Set<Integer> out = new TreeSet<>();
        for (int i = 0; i < Topology.MAX_ORDINALS; i++) {
            if (Files.exists(dataDir(i))) {
                out.add(i);
            }
        }
        return out;
    }

    @Override
    public synchronized void bootstrap(List<String> initial, int n) {
        state = BootstrapState.NEW;
        initialCluster = List.copyOf(initial);
        replicas = n;
        startPods();
    }

    @Override
    public synchronized void finishBootstrap() {
        state = BootstrapState.EXISTING;
    }

    @Override
    public synchronized void admit(Set<Integer> ordinals) {
        admitted = Set.copyOf(ordinals);
    }

    @Override
    public synchronized void scale(int n) {
        replicas = n;
        for (int i = n; i < Topology.MAX_ORDINALS; i++) {
            stop(i, false);
        }
        startPods();
    }

    @Override
    public synchronized void deleteClaim(int ordinal) {
        if (ordinal < replicas) {
            throw new IllegalStateException("ordinal " + ordinal + " still has a pod");
        }
        deleteDir(ordinal);
    }

    @Override
    public synchronized void resetDataDir(int ordinal) {
        stop(ordinal, true);
        deleteDir(ordinal);
        startPods();
    }

    @Override
    public synchronized void restart(int ordinal, String v) {
        stop(ordinal, false);
        versions[ordinal] = v;
        startPods();
    }

    @Override
    public synchronized void close() {
        for (int i = 0; i < Topology.MAX_ORDINALS; i++) {
            stop(i, true);
        }
    }

    /** The kubelet: pods below replicas that do not run are (re)started under the entrypoint's rule. */
    private void startPods() {
        for (int i = 0; i < replicas; i++) {
            if (procs[i] == null || !procs[i].isAlive()) {
                if (versions[i] == null) {
                    versions[i] = version;
                }
                tryStart(i);
            }
        }
    }

    private void tryStart(int i) {
        boolean empty = !Files.exists(dataDir(i).resolve("member"));
        String clusterState;
        String initial;
        if (!empty) {
            clusterState = "existing";
            initial = "m-" + i + "=" + topology().peerUrl(i);
        } else if (state == BootstrapState.NEW) {
            clusterState = "new";
            initial = String.join(",", initialCluster);
        } else if (state == BootstrapState.EXISTING && admitted.contains(i)) {
            clusterState = "existing";
            initial = "m-" + i + "=" + topology().peerUrl(i);
        } else {
            fresh[i] = true;
            return;
        }
        fresh[i] = false;
        String client = topology().clientUrl(i);
        String peer = topology().peerUrl(i);
        List<String> cmd = List.of("java", "-Xmx192m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-jar",
                jar.toString(), "--name", "m-" + i, "--data-dir", dataDir(i).toString(),
                "--listen-client-urls", client, "--advertise-client-urls", client,
                "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                "--listen-metrics-urls", "http://127.0.0.1:" + metricsPorts[i],
                "--initial-cluster", initial, "--initial-cluster-state", clusterState,
                "--initial-cluster-token", token, "--heartbeat-interval", "100", "--election-timeout", "1000");
        try {
            procs[i] = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(root.resolve("m-" + i + ".log").toFile())).start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void stop(int i, boolean kill) {
        Process p = procs[i];
        if (p == null) {
            return;
        }
        try {
            if (kill) {
                p.destroyForcibly();
            } else {
                p.destroy();
            }
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        procs[i] = null;
    }

    private Path dataDir(int i) {
        return root.resolve("m-" + i + ".data");
    }

    private void deleteDir(int i) {
        Path d = dataDir(i);
        if (!Files.exists(d)) {
            return;
        }
        try (Stream<Path> s = Files.walk(d)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
