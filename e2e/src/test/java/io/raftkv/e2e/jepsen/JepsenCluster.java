package io.raftkv.e2e.jepsen;

import io.etcd.jetcd.Client;
import io.etcd.jetcd.cluster.Member;
import io.etcd.jetcd.maintenance.StatusResponse;
import io.raftkv.e2e.ChangeMembersCall;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The node processes of one run, raftkv or etcd 3.4 started with the same etcd flags, each in its
 * slot of a {@link Net}. Slots are numbered from 0; a member added later gets a fresh slot (and a
 * fresh data directory), a removed one is never reused. Every node listens on ports 2379 (client),
 * 2380 (peer) and 2381 (metrics, /health) of its own address.
 *
 * <p>Thread-safety: the member list may be read from any thread (workload clients); changes
 * (start, kill, pause, add, remove) come from one thread at a time, the nemesis or the run.
 */
final class JepsenCluster implements AutoCloseable {
    /** Which server runs in each node. */
    enum Kind { RAFTKV, ETCD }

    /**
     * Timing shared by both kinds, so that a comparison is fair. etcd requires the election timeout
     * to be at least 5 heartbeats.
     *
     * @param heartbeatMs --heartbeat-interval
     * @param electionMs  --election-timeout
     */
    record Timing(int heartbeatMs, int electionMs) {
        static final Timing DEFAULT = new Timing(100, 500);
    }

    private final Kind kind;
    private final Net net;
    private final Timing timing;
    private final Path dataRoot;
    private final Path logDir;
    private final String token = "jepsen-" + Long.toHexString(System.nanoTime());
    private final List<Integer> members = new CopyOnWriteArrayList<>();
    private final Map<Integer, Process> procs = new HashMap<>();
    private final Map<Integer, Client> clients = new java.util.concurrent.ConcurrentHashMap<>();
    /** Size of the tmpfs each node's data dir is mounted on; 0 = no tmpfs (plain temp dir). */
    private final long tmpfsBytes;
    private final java.util.Set<Path> mounts = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    private int nextSlot;

    private JepsenCluster(Kind kind, Net net, Timing timing, Path dataRoot, Path logDir, long tmpfsBytes) {
        this.tmpfsBytes = tmpfsBytes;
        this.kind = kind;
        this.net = net;
        this.timing = timing;
        this.dataRoot = dataRoot;
        this.logDir = logDir;
    }

    /**
     * Starts {@code size} members, writing node logs under {@code logDir}, and waits until each
     * reports a leader. With {@code tmpfsBytes > 0} every node's data dir is a tmpfs of that size
     * (for {@link Fault#DISK_FULL}); that needs root.
     */
    static JepsenCluster start(Kind kind, int size, Net net, Timing timing, Path logDir, long tmpfsBytes) throws IOException {
        Files.createDirectories(logDir);
        cleanStale();
        JepsenCluster c = new JepsenCluster(kind, net, timing,
                Files.createTempDirectory(DATA_PREFIX + ProcessHandle.current().pid() + "-"), logDir, tmpfsBytes);
        try {
            for (int i = 0; i < size; i++) {
                net.addNode(i);
                c.members.add(i);
            }
            c.nextSlot = size;
            for (int i = 0; i < size; i++) {
                c.startNode(i, true);
            }
            c.awaitHealthy(Duration.ofSeconds(90));
            return c;
        } catch (RuntimeException | IOException e) {
            c.close();
            throw e;
        }
    }

    Kind kind() {
        return kind;
    }

    Timing timing() {
        return timing;
    }

    /** Node names as etcd sees them: n1 for slot 0. */
    String name(int slot) {
        return "n" + (slot + 1);
    }

    String clientUrl(int slot) {
        return "http://" + net.host(slot) + ":2379";
    }

    String peerUrl(int slot) {
        return "http://" + net.host(slot) + ":2380";
    }

    private String metricsUrl(int slot) {
        return "http://" + net.host(slot) + ":2381";
    }

    /** The slots of the current members, in slot order; a snapshot safe to iterate. */
    List<Integer> members() {
        return List.copyOf(members);
    }

    /**
     * A jetcd client bound to the one member in {@code slot}, created on first use and kept until
     * {@link #close()}. jetcd's own retries are off: an operation is sent once, so its outcome is
     * what the workload records.
     */
    Client client(int slot) {
        return clients.computeIfAbsent(slot, s -> Client.builder().endpoints(clientUrl(s))
                .connectTimeout(Duration.ofSeconds(1)).retryMaxAttempts(0).waitForReady(false).build());
    }

    /** Starts (or restarts on its data dir) the node in {@code slot}; {@code initial} selects --initial-cluster-state new. */
    void startNode(int slot, boolean initial) throws IOException {
        List<String> cmd = new ArrayList<>();
        if (kind == Kind.RAFTKV) {
            cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-jar", raftkvJar().toString()));
        } else {
            cmd.add("etcd");
        }
        StringBuilder initialCluster = new StringBuilder();
        for (int m : members) {
            initialCluster.append(initialCluster.isEmpty() ? "" : ",").append(name(m)).append('=').append(peerUrl(m));
        }
        cmd.addAll(List.of("--name", name(slot), "--data-dir", dataDir(slot).toString(),
                "--listen-client-urls", clientUrl(slot), "--advertise-client-urls", clientUrl(slot),
                "--listen-peer-urls", peerUrl(slot), "--initial-advertise-peer-urls", peerUrl(slot),
                "--listen-metrics-urls", metricsUrl(slot),
                "--initial-cluster", initialCluster.toString(), "--initial-cluster-token", token,
                "--initial-cluster-state", initial ? "new" : "existing",
                "--heartbeat-interval", Integer.toString(timing.heartbeatMs()),
                "--election-timeout", Integer.toString(timing.electionMs())));
        mountDataDir(slot);
        ProcessBuilder pb = new ProcessBuilder(net.wrap(slot, cmd)).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logDir.resolve(name(slot) + ".log").toFile()));
        synchronized (procs) {
            procs.put(slot, pb.start());
        }
    }

    Path dataDir(int slot) {
        return dataRoot.resolve(name(slot));
    }

    private static final String DATA_PREFIX = "raftkv-jepsen-";

    /**
     * Cleans up after runs whose JVM died without running its shutdown hooks (kill -9): their node
     * processes are killed, their tmpfs data dirs unmounted and deleted. Such a run is recognised by
     * its data dir, {@code raftkv-jepsen-<pid>-*} in the temp dir, whose pid no longer exists.
     */
    private static void cleanStale() throws IOException {
        java.util.function.Predicate<String> stale = path -> {
            int at = path.indexOf(DATA_PREFIX);
            if (at < 0) {
                return false;
            }
            String rest = path.substring(at + DATA_PREFIX.length());
            String pid = rest.substring(0, Math.max(0, rest.indexOf('-')));
            return !pid.isEmpty() && pid.chars().allMatch(Character::isDigit)
                    && ProcessHandle.of(Long.parseLong(pid)).isEmpty();
        };
        ProcessHandle.allProcesses()
                .filter(p -> p.info().arguments().map(a -> java.util.Arrays.stream(a).anyMatch(stale)).orElse(false))
                .forEach(ProcessHandle::destroyForcibly);
        Path mountsFile = Path.of("/proc/mounts");
        if (Files.isReadable(mountsFile)) {
            for (String line : Files.readAllLines(mountsFile)) {
                String[] f = line.split(" ");
                if (f.length > 1 && stale.test(f[1])) {
                    Cmd.quiet("umount", "-l", f[1]);
                }
            }
        }
        try (Stream<Path> dirs = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
            for (Path d : dirs.filter(d -> d.getFileName().toString().startsWith(DATA_PREFIX) && stale.test(d.toString())).toList()) {
                deleteTree(d);
            }
        }
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path f : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(f);
            }
        }
    }

    /** The size of each node's tmpfs, 0 when data dirs are plain directories. */
    long tmpfsBytes() {
        return tmpfsBytes;
    }

    private void mountDataDir(int slot) throws IOException {
        Path dir = dataDir(slot);
        if (tmpfsBytes <= 0 || mounts.contains(dir)) {
            return;
        }
        Files.createDirectories(dir);
        Cmd.check("mount", "-t", "tmpfs", "-o", "size=" + tmpfsBytes, "raftkv-jepsen", dir.toString());
        mounts.add(dir);
    }

    static Path raftkvJar() {
        Path jar = Path.of(System.getProperty("raftkv.jar", "../node/server/target/quarkus-app/quarkus-run.jar"))
                .toAbsolutePath().normalize();
        if (!Files.exists(jar)) {
            throw new IllegalStateException("build the node first: " + jar + " is missing");
        }
        return jar;
    }

    private Process process(int slot) {
        synchronized (procs) {
            return procs.get(slot);
        }
    }

    /** True if the node process in {@code slot} runs (a paused one counts as running). */
    boolean alive(int slot) {
        Process p = process(slot);
        return p != null && p.isAlive();
    }

    /** kill -9 of the node in {@code slot}; waits for the process to exit. */
    void kill(int slot) throws InterruptedException {
        Process p = process(slot);
        if (p != null) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** SIGSTOP ({@code stop}) or SIGCONT to the node in {@code slot}. */
    void signal(int slot, boolean stop) {
        Process p = process(slot);
        if (p != null && p.isAlive()) {
            Cmd.check("kill", stop ? "-STOP" : "-CONT", Long.toString(p.pid()));
        }
    }

    /** The slot of the member that reports itself leader, asking each member; -1 if none answers so. */
    int leader() {
        for (int slot : members) {
            if (!alive(slot)) {
                continue;
            }
            try {
                StatusResponse s = client(slot).getMaintenanceClient().statusMember(clientUrl(slot))
                        .get(1, TimeUnit.SECONDS);
                if (s.getLeader() != 0 && s.getLeader() == s.getHeader().getMemberId()) {
                    return slot;
                }
            } catch (Exception notAnswering) {
                // down, paused, or partitioned from the JVM
            }
        }
        return -1;
    }

    /** True if the node in {@code slot} answers /health with a leader. */
    boolean healthy(int slot) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(metricsUrl(slot) + "/health"))
                    .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 && r.body().contains("\"health\":\"true\"");
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Waits until every member answers /health with a leader; throws with the node logs' tails if not within {@code d}. */
    void awaitHealthy(Duration d) {
        long deadline = System.nanoTime() + d.toNanos();
        while (true) {
            if (members.stream().allMatch(this::healthy)) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("cluster not healthy within " + d + "; unhealthy: "
                        + members.stream().filter(s -> !healthy(s)).map(this::name).toList());
            }
            sleep(200);
        }
    }

    /**
     * Removes the member in {@code slot} through MemberRemove sent to {@code via}, then stops its
     * process (a removed member stops itself, but we do not depend on that).
     */
    void removeMember(int slot, int via) throws Exception {
        long id = memberId(slot, via);
        client(via).getClusterClient().removeMember(id).get(10, TimeUnit.SECONDS);
        members.remove(Integer.valueOf(slot));
        Process p = process(slot);
        if (p != null) {
            p.destroy();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                kill(slot);
            }
        }
    }

    /** Adds a member in a fresh slot through MemberAdd sent to {@code via}, starts it, and returns the slot. */
    int addMember(int via) throws Exception {
        int slot = nextSlot++;
        net.addNode(slot);
        client(via).getClusterClient().addMember(List.of(URI.create(peerUrl(slot)))).get(10, TimeUnit.SECONDS);
        members.add(slot);
        startNode(slot, false);
        return slot;
    }

    /**
     * Replaces the members in {@code victims} with as many fresh ones in one raftkv ChangeMembers
     * call sent to {@code via} (joint consensus), and returns the new slots. raftkv only: etcd has
     * no such service.
     *
     * <p>The new members are started <em>before</em> the call: the joint configuration needs a
     * majority of the new voter set, which the survivors alone may not have (replacing two of
     * three), and the call answers only once the change is applied. If the call fails or times
     * out, the member list the cluster reports decides who is a member; new members it does not
     * list are stopped. Victims that left are stopped.
     */
    List<Integer> replaceMembers(List<Integer> victims, int via) throws Exception {
        if (kind != Kind.RAFTKV) {
            throw new IllegalStateException("etcd has no raftkv.v1.Membership/ChangeMembers");
        }
        List<ChangeMembersCall.Change> changes = new ArrayList<>();
        for (int v : victims) {
            changes.add(new ChangeMembersCall.Change(ChangeMembersCall.REMOVE, memberId(v, via), null, null));
        }
        List<Integer> before = List.copyOf(members);
        List<Integer> fresh = new ArrayList<>();
        for (int i = 0; i < victims.size(); i++) {
            int slot = nextSlot++;
            net.addNode(slot);
            fresh.add(slot);
            changes.add(new ChangeMembersCall.Change(ChangeMembersCall.ADD_VOTER, 0, name(slot), peerUrl(slot)));
        }
        members.removeAll(victims);
        members.addAll(fresh);
        for (int slot : fresh) {
            startNode(slot, false);
        }
        RuntimeException failure = null;
        try {
            ChangeMembersCall.send("http://" + net.host(via) + ":2379", changes, Duration.ofSeconds(15));
        } catch (RuntimeException e) {
            failure = e;
        }
        List<Integer> survivors = before.stream().filter(m -> !victims.contains(m)).toList();
        List<Integer> listed = failure == null ? concat(survivors, fresh) : listedMembers(via, survivors, victims, fresh);
        members.clear();
        members.addAll(listed);
        for (int slot : concat(before, fresh)) {
            if (!listed.contains(slot)) {
                Process p = process(slot);
                if (p != null) {
                    p.destroy();
                    if (!p.waitFor(10, TimeUnit.SECONDS)) {
                        kill(slot);
                    }
                }
            }
        }
        if (failure != null) {
            throw new IllegalStateException("ChangeMembers failed (" + failure.getMessage() + "); members now "
                    + listed.stream().map(this::name).toList(), failure);
        }
        return fresh;
    }

    /**
     * Which members the member list holds after a ChangeMembers whose outcome is unknown, asking
     * {@code via} first, then the other survivors (a removed member may not know it was removed),
     * retrying for up to 20 s.
     */
    private List<Integer> listedMembers(int via, List<Integer> survivors, List<Integer> victims, List<Integer> fresh)
            throws InterruptedException {
        List<Integer> candidates = concat(concat(survivors, victims), fresh);
        List<Integer> askOrder = new ArrayList<>(List.of(via));
        survivors.stream().filter(m -> m != via).forEach(askOrder::add);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            for (int ask : askOrder) {
                try {
                    List<String> urls = new ArrayList<>();
                    for (Member m : client(ask).getClusterClient().listMember().get(2, TimeUnit.SECONDS).getMembers()) {
                        m.getPeerURIs().forEach(u -> urls.add(u.toString()));
                    }
                    return candidates.stream().filter(c -> urls.stream().anyMatch(u -> u.startsWith(peerUrl(c)))).toList();
                } catch (Exception notNow) {
                    // not answering: ask the next one
                }
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no survivor answered MemberList after ChangeMembers through " + name(via));
            }
            Thread.sleep(500);
        }
    }

    private static List<Integer> concat(List<Integer> a, List<Integer> b) {
        List<Integer> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }

    private long memberId(int slot, int via) throws Exception {
        for (Member m : client(via).getClusterClient().listMember().get(10, TimeUnit.SECONDS).getMembers()) {
            if (m.getPeerURIs().stream().anyMatch(u -> u.toString().startsWith(peerUrl(slot)))) {
                return m.getId();
            }
        }
        throw new IllegalStateException(name(slot) + " is not in the member list of " + name(via));
    }

    /** The last {@code lines} lines of each node's log, for failure messages. */
    String logTails(int lines) {
        StringBuilder out = new StringBuilder();
        try (Stream<Path> logs = Files.list(logDir)) {
            for (Path log : logs.filter(p -> p.toString().endsWith(".log")).sorted().toList()) {
                List<String> all = Files.readAllLines(log);
                out.append("--- ").append(log.getFileName()).append('\n');
                all.stream().skip(Math.max(0, all.size() - lines)).forEach(l -> out.append(l).append('\n'));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** Closes the clients, kills every node (resuming paused ones first), unmounts and deletes the data dirs. */
    @Override
    public void close() {
        clients.values().forEach(Client::close);
        clients.clear();
        List<Process> all;
        synchronized (procs) {
            all = new ArrayList<>(procs.values());
        }
        for (Process p : all) {
            if (p.isAlive()) {
                Cmd.quiet("kill", "-CONT", Long.toString(p.pid()));
                p.destroyForcibly();
            }
        }
        for (Process p : all) {
            try {
                p.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (Path m : mounts) {
            Cmd.quiet("umount", "-l", m.toString());
        }
        mounts.clear();
        try {
            deleteTree(dataRoot);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
