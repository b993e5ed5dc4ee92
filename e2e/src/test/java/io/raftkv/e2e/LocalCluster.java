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
import java.util.Comparator;
import java.util.List;
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
    private final int size;
    private final int[] clientPorts;
    private final int[] peerPorts;
    private final int[] metricsPorts;
    private final Process[] procs;
    private final String token;

    private LocalCluster(Kind kind, int size, Path dir) throws IOException {
        this.kind = kind;
        this.size = size;
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
        Path dir = Files.createTempDirectory("raftkv-it-");
        LocalCluster c = new LocalCluster(kind, size, dir);
        for (int i = 0; i < size; i++) {
            c.startMember(i);
        }
        c.awaitHealthy(Duration.ofSeconds(60));
        return c;
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

    String clientUrl(int i) {
        return "http://127.0.0.1:" + clientPorts[i];
    }

    /** The HTTP URL serving /health and /metrics (etcd's --listen-metrics-urls). */
    String metricsUrl(int i) {
        return "http://127.0.0.1:" + metricsPorts[i];
    }

    String peerUrl(int i) {
        return "http://127.0.0.1:" + peerPorts[i];
    }

    /** All client endpoints, comma separated, for etcdctl --endpoints. */
    String endpoints() {
        List<String> e = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            e.add(clientUrl(i));
        }
        return String.join(",", e);
    }

    private String initialCluster() {
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            parts.add(name(i) + "=" + peerUrl(i));
        }
        return String.join(",", parts);
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
        cmd.addAll(List.of("--name", name(i), "--data-dir", dir.resolve(name(i)).toString(),
                "--listen-client-urls", clientUrl(i), "--advertise-client-urls", clientUrl(i),
                "--listen-peer-urls", peerUrl(i), "--initial-advertise-peer-urls", peerUrl(i),
                "--initial-cluster", initialCluster(), "--initial-cluster-state", "new",
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
