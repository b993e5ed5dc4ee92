package io.raftkv.e2e;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.awaitility.Awaitility.await;

/**
 * N real raftkv node processes on 127.0.0.1 started from the packaged application with
 * etcd-style flags, plus helpers to run the real {@code etcdctl} against them. Also starts real
 * etcd processes (Debian's etcd 3.4) with the same flags, so that tests can compare outputs.
 */
final class LocalCluster implements AutoCloseable {
    /** Which server binary to run. */
    enum Kind { RAFTKV, ETCD }

    private final Kind kind;
    private final Path dir;
    /** Members started with --initial-cluster-state new: 0 .. initialSize-1; later ones joined. */
    private final int initialSize;
    /** Member slots; grows with {@link #addMemberSlot()}, as do the arrays below. */
    private int size;
    private int[] clientPorts;
    private int[] peerPorts;
    private int[] metricsPorts;
    private Process[] procs;
    /** Slots of members removed from the cluster: left out of endpoints and --initial-cluster. */
    private final Set<Integer> removed = new HashSet<>();
    private final String token;
    /** Member i binds 127.0.0.(11+i) instead of 127.0.0.1, so nftables can cut its links. */
    private boolean distinctHosts;

    private LocalCluster(Kind kind, int size, Path dir) throws IOException {
        this.kind = kind;
        this.size = size;
        this.initialSize = size;
        this.dir = dir;
        this.clientPorts = new int[size];
        this.peerPorts = new int[size];
        this.metricsPorts = new int[size];
        this.procs = new Process[size];
        this.token = "it-" + Long.toHexString(System.nanoTime());
        for (int i = 0; i < size; i++) {
            clientPorts[i] = freePort();
            peerPorts[i] = freePort();
            metricsPorts[i] = freePort();
        }
    }

    /** Starts a cluster of {@code size} members and waits until every member reports a leader. */
    static LocalCluster start(Kind kind, int size) throws IOException {
        return start(kind, size, false);
    }

    /**
     * Like {@link #start(Kind, int)}, but member i binds all its URLs to 127.0.0.(11+i), so that a
     * test can drop the packets between members with nftables.
     */
    static LocalCluster startOnDistinctHosts(Kind kind, int size) throws IOException {
        return start(kind, size, true);
    }

    private static LocalCluster start(Kind kind, int size, boolean distinctHosts) throws IOException {
        LocalCluster c = prepare(kind, size);
        c.distinctHosts = distinctHosts;
        c.startAll();
        return c;
    }

    /**
     * Reserves ports and a temp dir for {@code size} members without starting them, for a test
     * that seeds their data dirs first ({@link #dataDir(int)}), then calls {@link #startAll()}.
     */
    static LocalCluster prepare(Kind kind, int size) throws IOException {
        return new LocalCluster(kind, size, Files.createTempDirectory("raftkv-it-"));
    }

    /** Starts every member and waits until every member reports a leader. */
    void startAll() throws IOException {
        for (int i = 0; i < size; i++) {
            startMember(i);
        }
        awaitHealthy(Duration.ofSeconds(60));
    }

    /** Member i's --data-dir. */
    Path dataDir(int i) {
        return dir.resolve(name(i));
    }

    /** The --initial-cluster-token every member starts with. */
    String token() {
        return token;
    }

    static Path jar() {
        Path jar = Path.of(System.getProperty("raftkv.jar", "../node/server/target/quarkus-app/quarkus-run.jar"))
                .toAbsolutePath().normalize();
        if (!Files.exists(jar)) {
            throw new IllegalStateException("build the node first: " + jar + " is missing (mvn package)");
        }
        return jar;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        }
    }

    String name(int i) {
        return "n" + (i + 1);
    }

    /** The loopback address member i binds. */
    String host(int i) {
        return distinctHosts ? "127.0.0." + (11 + i) : "127.0.0.1";
    }

    String clientUrl(int i) {
        return "http://" + host(i) + ":" + clientPorts[i];
    }

    /** The HTTP URL serving /health and /metrics (etcd's --listen-metrics-urls). */
    String metricsUrl(int i) {
        return "http://" + host(i) + ":" + metricsPorts[i];
    }

    String peerUrl(int i) {
        return "http://" + host(i) + ":" + peerPorts[i];
    }

    /** The member whose endpoint status says it leads, or -1 (asks each member itself). */
    int leaderIndex() throws IOException, InterruptedException {
        for (int i = 0; i < size; i++) {
            if (removed.contains(i) || procs[i] == null || !procs[i].isAlive()) {
                continue;
            }
            Result r = etcdctlAt(clientUrl(i), null, "endpoint", "status");
            String[] cols = r.stdout().strip().split(", ");
            if (r.exitCode() == 0 && cols.length > 4 && cols[4].equals("true")) {
                return i;
            }
        }
        return -1;
    }

    /** All client endpoints of members not removed, comma separated, for etcdctl --endpoints. */
    String endpoints() {
        List<String> e = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            if (!removed.contains(i)) {
                e.add(clientUrl(i));
            }
        }
        return String.join(",", e);
    }

    /** The --initial-cluster value: name=peer-url of every member not removed. */
    String initialCluster() {
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            if (!removed.contains(i)) {
                parts.add(name(i) + "=" + peerUrl(i));
            }
        }
        return String.join(",", parts);
    }

    /**
     * Reserves ports for one more member and returns its index. The caller adds it to the cluster
     * (etcdctl member add with {@link #peerUrl(int)}), then {@link #startMember(int)} starts it
     * with --initial-cluster-state existing and an --initial-cluster of every member not removed,
     * itself included, as etcdctl member add prints it.
     */
    int addMemberSlot() throws IOException {
        clientPorts = Arrays.copyOf(clientPorts, size + 1);
        peerPorts = Arrays.copyOf(peerPorts, size + 1);
        metricsPorts = Arrays.copyOf(metricsPorts, size + 1);
        procs = Arrays.copyOf(procs, size + 1);
        clientPorts[size] = freePort();
        peerPorts[size] = freePort();
        metricsPorts[size] = freePort();
        return size++;
    }

    /**
     * Records that member {@code i} was removed from the cluster (etcdctl member remove) and stops
     * its process if it still runs; it leaves {@link #endpoints()} and later members'
     * --initial-cluster.
     */
    void forgetRemovedMember(int i) throws InterruptedException {
        removed.add(i);
        if (procs[i] != null) {
            procs[i].destroy();
            if (!procs[i].waitFor(10, TimeUnit.SECONDS)) {
                kill(i);
            }
        }
    }

    /** The process of member {@code i}, or null if it was never started. */
    Process process(int i) {
        return procs[i];
    }

    /** Starts (or restarts, on the same data dir) member {@code i}. */
    void startMember(int i) throws IOException {
        List<String> cmd = new ArrayList<>();
        if (kind == Kind.RAFTKV) {
            cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-jar", jar().toString()));
        } else {
            cmd.add("etcd");
        }
        cmd.addAll(List.of("--name", name(i), "--data-dir", dataDir(i).toString(),
                "--listen-client-urls", clientUrl(i), "--advertise-client-urls", clientUrl(i),
                "--listen-peer-urls", peerUrl(i), "--initial-advertise-peer-urls", peerUrl(i),
                "--initial-cluster", initialCluster(), "--initial-cluster-state", i < initialSize ? "new" : "existing",
                "--listen-metrics-urls", metricsUrl(i), "--initial-cluster-token", token));
        // raftkv runs with its defaults (heartbeat 100 ms, election 150-300 ms); etcd with its own.
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve(name(i) + ".log").toFile()));
        procs[i] = pb.start();
    }

    /** Kills member {@code i} with SIGKILL. */
    void kill(int i) throws InterruptedException {
        procs[i].destroyForcibly();
        procs[i].waitFor(10, TimeUnit.SECONDS);
    }

    /** Stops member {@code i} with SIGSTOP (the process freezes, its sockets stay open). */
    void pause(int i) throws IOException, InterruptedException {
        signal(i, "-STOP");
    }

    /** Resumes a member stopped by {@link #pause(int)} with SIGCONT. */
    void resume(int i) throws IOException, InterruptedException {
        signal(i, "-CONT");
    }

    private void signal(int i, String sig) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", sig, Long.toString(procs[i].pid())).inheritIO().start();
        if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
            throw new IOException("kill " + sig + " of member " + name(i) + " failed");
        }
    }

    /** Waits until every running member answers /health with a leader. */
    void awaitHealthy(Duration d) {
        await().atMost(d).pollInterval(Duration.ofMillis(200)).ignoreExceptions().until(() -> {
            for (int i = 0; i < size; i++) {
                if (procs[i] != null && procs[i].isAlive() && !healthy(i)) {
                    return false;
                }
            }
            return true;
        });
    }

    boolean healthy(int i) throws IOException, InterruptedException {
        HttpResponse<String> r = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create(metricsUrl(i) + "/health")).timeout(Duration.ofSeconds(2)).build(),
                HttpResponse.BodyHandlers.ofString());
        return r.statusCode() == 200 && r.body().contains("\"health\":\"true\"");
    }

    /** The output of a finished etcdctl command. */
    record Result(int exitCode, String stdout, String stderr) {
    }

    /** Runs {@code etcdctl} (API v3) against all endpoints with {@code args}. */
    Result etcdctl(String... args) throws IOException, InterruptedException {
        return etcdctlAt(endpoints(), null, args);
    }

    /** Runs {@code etcdctl} against {@code endpoints}, feeding {@code stdin} if non-null. */
    Result etcdctlAt(String endpoints, String stdin, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("etcdctl", "--endpoints=" + endpoints, "--command-timeout=10s"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("ETCDCTL_API", "3");
        Process p = pb.start();
        if (stdin != null) {
            p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(30, TimeUnit.SECONDS);
        return new Result(p.exitValue(), out, err);
    }

    /** The last lines of each member's log, for failure messages. */
    String logs() throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < size; i++) {
            Path log = dir.resolve(name(i) + ".log");
            if (Files.exists(log)) {
                List<String> lines = Files.readAllLines(log);
                sb.append("--- ").append(name(i)).append('\n')
                        .append(lines.stream().skip(Math.max(0, lines.size() - 40)).collect(Collectors.joining("\n")))
                        .append('\n');
            }
        }
        return sb.toString();
    }

    int size() {
        return size;
    }

    @Override
    public void close() throws IOException, InterruptedException {
        for (Process p : procs) {
            if (p != null) {
                p.destroy();
            }
        }
        for (Process p : procs) {
            if (p != null && !p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path f : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(f);
            }
        }
    }
}
