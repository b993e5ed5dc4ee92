package io.raftkv.server;

import java.io.PrintStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * The node's command line, with etcd's flag names, forms and (but for one) defaults, so that an
 * etcd start script works unchanged: {@code --flag value}, {@code --flag=value} and etcd's
 * single-dash {@code -flag value} / {@code -flag=value} are all accepted; a repeated flag keeps
 * its last value, as Go's flag package does.
 *
 * <p>One default and one rule differ from etcd: {@code --election-timeout} defaults to 150 ms
 * (etcd: 1000 ms) and needs only to exceed {@code --heartbeat-interval} (etcd: 5 times it). With
 * the 100 ms heartbeat the randomized timeout then lies in [150, 300) ms, the raftkv design card's
 * choice for a LAN cluster; the help text says so.
 *
 * <p>Derived ids: {@link #memberId()} and {@link #clusterId()} are stable 64-bit hashes of the
 * bootstrap configuration, so every member computes the same ids for every other member from the
 * same {@code --initial-cluster} without talking to it (the idea of etcd's member and cluster ids;
 * raftkv's own function, not etcd's values).
 *
 * <p>Instances are immutable and thread-safe; {@link #parse} never exits the process, only
 * {@link #parseOrExit} does.
 *
 * @param name human-readable name of this member
 * @param dataDir directory for the Raft log, snapshots and the key-value store
 * @param listenClientUrls URLs to serve the etcd client API on
 * @param advertiseClientUrls client URLs this member tells clients about
 * @param listenPeerUrls URLs to serve peer (Raft) traffic on
 * @param initialAdvertisePeerUrls peer URLs this member tells the rest of the cluster about
 * @param initialCluster bootstrap members, name to peer URLs, in command-line order
 * @param initialClusterState whether this member bootstraps a new cluster or joins one
 * @param initialClusterToken token that keeps clusters bootstrapped from the same URLs apart
 * @param heartbeatInterval leader heartbeat period
 * @param electionTimeout follower timeout before starting an election
 * @param snapshotCount applied entries between snapshots
 * @param quotaBackendBytes backend size at which the NOSPACE alarm is raised
 * @param maxRequestBytes largest client request accepted
 * @param maxTxnOps most operations in one list of a txn request
 * @param logLevel log verbosity
 * @param watchProgressNotifyInterval period of progress notifications to watchers that asked
 *     for them (etcd's --experimental-watch-progress-notify-interval, default 10m)
 * @param listenMetricsUrls URLs serving HTTP /health, /livez, /readyz and /metrics (etcd's
 *     --listen-metrics-urls; default: the first client URL's host, port + 2, so 2381 for 2379)
 */
public record ServerFlags(
        String name,
        Path dataDir,
        List<URI> listenClientUrls,
        List<URI> advertiseClientUrls,
        List<URI> listenPeerUrls,
        List<URI> initialAdvertisePeerUrls,
        Map<String, List<URI>> initialCluster,
        ClusterState initialClusterState,
        String initialClusterToken,
        Duration heartbeatInterval,
        Duration electionTimeout,
        long snapshotCount,
        long quotaBackendBytes,
        long maxRequestBytes,
        int maxTxnOps,
        LogLevel logLevel,
        List<URI> listenMetricsUrls,
        Duration watchProgressNotifyInterval) {

    /** etcd's default backend quota, 2 GiB; {@code --quota-backend-bytes=0} selects it. */
    public static final long DEFAULT_QUOTA_BACKEND_BYTES = 2L * 1024 * 1024 * 1024;

    /** etcd's default {@code --snapshot-count}; 0 selects it. */
    public static final long DEFAULT_SNAPSHOT_COUNT = 100_000;

    /** etcd's upper bound on the election timeout (etcd: maxElectionMs). */
    public static final long MAX_ELECTION_TIMEOUT_MS = 50_000;

    /** The exit code for a bad command line, as Go's flag package uses. */
    public static final int USAGE_EXIT_CODE = 2;

    /** {@code --initial-cluster-state}. */
    public enum ClusterState {
        /** Bootstrap a new cluster from {@code --initial-cluster}. */
        NEW,
        /** Join a cluster that already runs (the member was added with MemberAdd first). */
        EXISTING
    }

    /** {@code --log-level}. */
    public enum LogLevel {
        /** Everything, including per-request detail. */
        DEBUG,
        /** Normal operation. */
        INFO,
        /** Problems the node works around. */
        WARN,
        /** Failures only. */
        ERROR
    }

    /** Copies the collections so that the record is immutable. */
    public ServerFlags {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dataDir, "dataDir");
        listenClientUrls = List.copyOf(listenClientUrls);
        listenMetricsUrls = List.copyOf(listenMetricsUrls);
        advertiseClientUrls = List.copyOf(advertiseClientUrls);
        listenPeerUrls = List.copyOf(listenPeerUrls);
        initialAdvertisePeerUrls = List.copyOf(initialAdvertisePeerUrls);
        Map<String, List<URI>> cluster = new LinkedHashMap<>();
        initialCluster.forEach((n, urls) -> cluster.put(n, List.copyOf(urls)));
        initialCluster = Collections.unmodifiableMap(cluster);
        Objects.requireNonNull(initialClusterState, "initialClusterState");
        Objects.requireNonNull(initialClusterToken, "initialClusterToken");
        Objects.requireNonNull(heartbeatInterval, "heartbeatInterval");
        Objects.requireNonNull(electionTimeout, "electionTimeout");
        Objects.requireNonNull(logLevel, "logLevel");
    }

    // ---------------------------------------------------------------------------- flag table

    private record Flag(String name, String arg, String defaultValue, String description) {}

    private static final String DEFAULT_NAME = "default";

    private static final List<Flag> FLAGS = List.of(
            new Flag("name", "string", DEFAULT_NAME, "Human-readable name for this member."),
            new Flag("data-dir", "path", "${name}.etcd",
                    "Path to the data directory (Raft log, snapshots, key-value store)."),
            new Flag("listen-client-urls", "urls", "http://localhost:2379",
                    "Comma-separated URLs to listen on for client (etcd v3 gRPC) traffic."),
            new Flag("advertise-client-urls", "urls", "http://localhost:2379",
                    "Comma-separated client URLs to advertise to the rest of the cluster and to"
                            + " clients. Required when --listen-client-urls is set."),
            new Flag("listen-metrics-urls", "urls", "client port + 2",
                    "Comma-separated URLs to serve HTTP /health, /livez, /readyz and /metrics on"
                            + " (the client URLs serve gRPC only). Default: the first client URL's"
                            + " host with its port + 2, e.g. http://localhost:2381."),
            new Flag("listen-peer-urls", "urls", "http://localhost:2380",
                    "Comma-separated URLs to listen on for peer (Raft) traffic."),
            new Flag("initial-advertise-peer-urls", "urls", "http://localhost:2380",
                    "Comma-separated peer URLs of this member to advertise to the rest of the"
                            + " cluster; must match this member's entry in --initial-cluster."),
            new Flag("initial-cluster", "name=url,...", "default=http://localhost:2380",
                    "Initial cluster configuration for bootstrapping: name=peer-url pairs; a"
                            + " name may appear several times for several URLs. When not set:"
                            + " --name=each of --initial-advertise-peer-urls."),
            new Flag("initial-cluster-state", "new|existing", "new",
                    "'new' when all members bootstrap together, 'existing' to join a running"
                            + " cluster (add the member first)."),
            new Flag("initial-cluster-token", "string", "etcd-cluster",
                    "Token that keeps clusters bootstrapped from the same URLs apart; part of the"
                            + " member and cluster ids."),
            new Flag("heartbeat-interval", "ms", "100", "Time (in milliseconds) of a heartbeat"
                    + " interval."),
            new Flag("election-timeout", "ms", "150",
                    "Time (in milliseconds) for an election to timeout; randomized in [t, 2t). Must"
                            + " exceed --heartbeat-interval, at most " + MAX_ELECTION_TIMEOUT_MS
                            + ". raftkv's default is 150 (etcd's is 1000, with a 5 x heartbeat"
                            + " minimum): the design card's 150-300 ms for a LAN."),
            new Flag("snapshot-count", "n", Long.toString(DEFAULT_SNAPSHOT_COUNT),
                    "Number of committed transactions to trigger a snapshot; 0 means the"
                            + " default."),
            new Flag("quota-backend-bytes", "bytes", "0",
                    "Raise the NOSPACE alarm when the backend size exceeds this; 0 means the"
                            + " default, " + DEFAULT_QUOTA_BACKEND_BYTES + " (2 GiB)."),
            new Flag("max-request-bytes", "bytes", "1572864",
                    "Maximum client request size in bytes the server will accept."),
            new Flag("max-txn-ops", "n", "128",
                    "Maximum number of operations permitted in each list (compare, success,"
                            + " failure) of a transaction."),
            new Flag("log-level", "debug|info|warn|error", "info", "Log verbosity."),
            new Flag("experimental-watch-progress-notify-interval", "duration", "10m0s",
                    "Duration of periodic watch progress notifications (Go duration syntax, as"
                            + " etcd: 10m0s, 5s, 500ms)."),
            new Flag("help", "", "", "Print this help and exit (also -h)."));

    private static final Map<String, Flag> BY_NAME = new HashMap<>();

    static {
        for (Flag f : FLAGS) {
            BY_NAME.put(f.name(), f);
        }
    }

    // ---------------------------------------------------------------------------- parsing

    /** A command line that cannot be run, with the message to print and the exit code. */
    public static final class FlagException extends RuntimeException {

        private static final long serialVersionUID = 1L;

        /** Creates the exception; the message names the offending flag. */
        public FlagException(String message) {
            super(message, null, false, false);
        }

        /** Always {@link #USAGE_EXIT_CODE}. */
        public int exitCode() {
            return USAGE_EXIT_CODE;
        }
    }

    /** What a command line asks for: run with flags, or print something and exit. */
    public sealed interface Outcome permits Run, Exit {}

    /**
     * Run the node.
     *
     * @param flags the parsed flags
     */
    public record Run(ServerFlags flags) implements Outcome {}

    /**
     * Exit without running.
     *
     * @param code the process exit code (0 for help, {@link #USAGE_EXIT_CODE} for an error)
     * @param stdout text for standard output (help), may be empty
     * @param stderr text for standard error (the error and a hint), may be empty
     */
    public record Exit(int code, String stdout, String stderr) implements Outcome {}

    /**
     * Parses a command line the way the launcher needs it: help, an error or flags. Never
     * throws for bad input and never exits.
     */
    public static Outcome parseCommandLine(String... args) {
        try {
            ServerFlags flags = parse(args);
            return flags == null ? new Exit(0, help(), "") : new Run(flags);
        } catch (FlagException e) {
            return new Exit(e.exitCode(), "",
                    "raftkv: " + e.getMessage() + "\nRun 'raftkv --help' for the list of flags.\n");
        }
    }

    /** For {@code main}: the flags, or prints help or the error and exits (0 or 2). */
    public static ServerFlags parseOrExit(String[] args, PrintStream out, PrintStream err) {
        Outcome o = parseCommandLine(args);
        if (o instanceof Run run) {
            return run.flags();
        }
        Exit exit = (Exit) o;
        out.print(exit.stdout());
        err.print(exit.stderr());
        out.flush();
        err.flush();
        System.exit(exit.code());
        throw new AssertionError("unreachable");
    }

    /**
     * Parses and validates {@code args}. Returns {@code null} when {@code --help} (or {@code -h})
     * comes before any error; flags are read left to right, as Go's flag package does.
     *
     * @throws FlagException for an unknown flag, a missing or bad value, or an inconsistent
     *     configuration; the message names the flag
     */
    public static ServerFlags parse(String... args) {
        Map<String, String> values = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (!arg.startsWith("-") || arg.equals("-") || arg.equals("--")) {
                throw new FlagException("'" + arg + "' is not a valid flag");
            }
            String body = arg.startsWith("--") ? arg.substring(2) : arg.substring(1);
            String flagName = body;
            String value = null;
            int eq = body.indexOf('=');
            if (eq >= 0) {
                flagName = body.substring(0, eq);
                value = body.substring(eq + 1);
            }
            if (flagName.equals("h") || flagName.equals("help")) {
                if (value != null && !value.equals("true")) {
                    if (value.equals("false")) {
                        continue;
                    }
                    throw new FlagException(
                            "invalid value \"" + value + "\" for flag --help: want true or false");
                }
                return null;
            }
            if (!BY_NAME.containsKey(flagName)) {
                throw new FlagException("unknown flag: " + arg);
            }
            if (value == null) {
                if (i + 1 >= args.length) {
                    throw new FlagException("flag needs an argument: --" + flagName);
                }
                value = args[++i];
            }
            values.put(flagName, value);
        }
        return build(values);
    }

    private static ServerFlags build(Map<String, String> given) {
        String name = value(given, "name");
        if (name.isEmpty()) {
            throw new FlagException("--name must not be empty");
        }
        Path dataDir = Path.of(given.getOrDefault("data-dir", name + ".etcd"));
        List<URI> listenClient = urls(given, "listen-client-urls");
        if (given.containsKey("listen-client-urls") && !given.containsKey("advertise-client-urls")) {
            throw new FlagException(
                    "--advertise-client-urls is required when --listen-client-urls is set"
                            + " explicitly");
        }
        List<URI> advertiseClient = urls(given, "advertise-client-urls");
        List<URI> listenPeer = urls(given, "listen-peer-urls");
        List<URI> listenMetrics = given.containsKey("listen-metrics-urls")
                ? urls(given, "listen-metrics-urls")
                : List.of(URI.create(listenClient.get(0).getScheme() + "://" + listenClient.get(0).getHost()
                        + ":" + (listenClient.get(0).getPort() + 2)));
        List<URI> advertisePeer = urls(given, "initial-advertise-peer-urls");
        Map<String, List<URI>> cluster;
        if (given.containsKey("initial-cluster")) {
            cluster = parseInitialCluster(given.get("initial-cluster"));
        } else {
            cluster = new LinkedHashMap<>();
            cluster.put(name, advertisePeer);
        }
        ClusterState state = switch (value(given, "initial-cluster-state")) {
            case "new" -> ClusterState.NEW;
            case "existing" -> ClusterState.EXISTING;
            default -> throw new FlagException("invalid value \""
                    + given.get("initial-cluster-state")
                    + "\" for flag --initial-cluster-state: want new or existing");
        };
        String token = value(given, "initial-cluster-token");
        if (token.isEmpty()) {
            throw new FlagException("--initial-cluster-token must not be empty");
        }
        long heartbeatMs = number(given, "heartbeat-interval", 1);
        long electionMs = number(given, "election-timeout", 1);
        if (electionMs <= heartbeatMs) {
            throw new FlagException("--election-timeout (" + electionMs + "ms) must be longer than"
                    + " --heartbeat-interval (" + heartbeatMs + "ms)");
        }
        if (electionMs > MAX_ELECTION_TIMEOUT_MS) {
            throw new FlagException("--election-timeout (" + electionMs + "ms) is too long; it"
                    + " must be at most " + MAX_ELECTION_TIMEOUT_MS + "ms");
        }
        long snapshotCount = number(given, "snapshot-count", 0);
        if (snapshotCount == 0) {
            snapshotCount = DEFAULT_SNAPSHOT_COUNT;
        }
        long quota = number(given, "quota-backend-bytes", 0);
        if (quota == 0) {
            quota = DEFAULT_QUOTA_BACKEND_BYTES;
        }
        long maxRequestBytes = number(given, "max-request-bytes", 1);
        if (maxRequestBytes > Integer.MAX_VALUE) {
            throw new FlagException("--max-request-bytes (" + maxRequestBytes
                    + ") must be at most " + Integer.MAX_VALUE);
        }
        long maxTxnOps = number(given, "max-txn-ops", 1);
        if (maxTxnOps > Integer.MAX_VALUE) {
            throw new FlagException("--max-txn-ops (" + maxTxnOps + ") must be at most "
                    + Integer.MAX_VALUE);
        }
        LogLevel logLevel = switch (value(given, "log-level")) {
            case "debug" -> LogLevel.DEBUG;
            case "info" -> LogLevel.INFO;
            case "warn" -> LogLevel.WARN;
            case "error" -> LogLevel.ERROR;
            default -> throw new FlagException("invalid value \"" + given.get("log-level")
                    + "\" for flag --log-level: want debug, info, warn or error");
        };
        Duration progressInterval = goDuration("experimental-watch-progress-notify-interval",
                value(given, "experimental-watch-progress-notify-interval"));
        checkMembership(name, cluster, advertisePeer, state, given.containsKey("initial-cluster"));
        return new ServerFlags(name, dataDir, listenClient, advertiseClient, listenPeer,
                advertisePeer, cluster, state, token, Duration.ofMillis(heartbeatMs),
                Duration.ofMillis(electionMs), snapshotCount, quota, maxRequestBytes,
                (int) maxTxnOps, logLevel, listenMetrics, progressInterval);
    }

    /**
     * etcd's bootstrap checks: this member must be in the initial cluster, and when a new cluster
     * is bootstrapped its advertised peer URLs must be exactly its URLs there (otherwise peers
     * would dial URLs this member does not answer on).
     */
    private static void checkMembership(String name, Map<String, List<URI>> cluster,
            List<URI> advertisePeer, ClusterState state, boolean clusterGiven) {
        List<URI> mine = cluster.get(name);
        if (mine == null) {
            throw new FlagException("couldn't find local name \"" + name + "\" in the initial"
                    + " cluster configuration (--initial-cluster=" + render(cluster)
                    + "); set --name or --initial-cluster");
        }
        if (state == ClusterState.NEW && clusterGiven
                && !new LinkedHashSet<>(mine).equals(new LinkedHashSet<>(advertisePeer))) {
            throw new FlagException("--initial-cluster has " + name + "=" + join(mine)
                    + " but --initial-advertise-peer-urls is " + join(advertisePeer)
                    + "; they must list the same URLs");
        }
    }

    /**
     * A positive Go duration ({@code time.ParseDuration}): a sequence of decimal numbers with
     * units h, m, s, ms, us (or µs), ns, such as {@code 10m0s} or {@code 1.5s}.
     */
    static Duration goDuration(String flag, String text) {
        java.util.regex.Matcher m = java.util.regex.Pattern
                .compile("(\\d+(?:\\.\\d+)?)(h|ms|m|s|us|µs|ns)").matcher(text);
        double nanos = 0;
        int at = 0;
        while (at < text.length() && m.find(at) && m.start() == at) {
            double n = Double.parseDouble(m.group(1));
            nanos += n * switch (m.group(2)) {
                case "h" -> 3600e9;
                case "m" -> 60e9;
                case "s" -> 1e9;
                case "ms" -> 1e6;
                case "us", "µs" -> 1e3;
                default -> 1;
            };
            at = m.end();
        }
        if (text.isEmpty() || at != text.length() || nanos < 1e6) {
            throw new FlagException("invalid value \"" + text + "\" for flag --" + flag
                    + ": want a duration of at least 1ms such as 10m0s, 5s or 500ms");
        }
        return Duration.ofNanos((long) nanos);
    }

    private static String value(Map<String, String> given, String flag) {
        String v = given.get(flag);
        return v != null ? v : BY_NAME.get(flag).defaultValue();
    }

    private static long number(Map<String, String> given, String flag, long min) {
        String raw = value(given, flag).trim();
        long n;
        try {
            n = Long.parseLong(raw);
        } catch (NumberFormatException e) {
            throw new FlagException("invalid value \"" + raw + "\" for flag --" + flag
                    + ": not an integer");
        }
        if (n < min) {
            throw new FlagException("invalid value \"" + raw + "\" for flag --" + flag
                    + ": must be at least " + min);
        }
        return n;
    }

    private static List<URI> urls(Map<String, String> given, String flag) {
        String raw = value(given, flag);
        List<URI> out = new ArrayList<>();
        for (String part : raw.split(",", -1)) {
            out.add(url(flag, part.trim()));
        }
        return out;
    }

    /** etcd's URL rules (types.NewURLs): http or https, host:port, nothing after the port. */
    private static URI url(String flag, String raw) {
        if (raw.isEmpty()) {
            throw new FlagException("--" + flag + ": empty URL");
        }
        URI u;
        try {
            u = new URI(raw);
        } catch (URISyntaxException e) {
            throw new FlagException("--" + flag + ": invalid URL \"" + raw + "\": "
                    + e.getReason());
        }
        String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new FlagException("--" + flag + ": URL scheme must be http or https: " + raw);
        }
        if (u.getHost() == null || u.getPort() < 0) {
            throw new FlagException("--" + flag + ": URL address does not have the form"
                    + " \"host:port\": " + raw);
        }
        if ((u.getRawPath() != null && !u.getRawPath().isEmpty()) || u.getRawQuery() != null
                || u.getRawFragment() != null || u.getRawUserInfo() != null) {
            throw new FlagException("--" + flag + ": URL must not contain a path, query,"
                    + " fragment or user info: " + raw);
        }
        return u;
    }

    /**
     * Parses {@code name=url[,name=url...]}; a name given several times collects several URLs;
     * one URL may not belong to two entries.
     */
    static Map<String, List<URI>> parseInitialCluster(String raw) {
        if (raw.isBlank()) {
            throw new FlagException("--initial-cluster must not be empty");
        }
        Map<String, List<URI>> cluster = new LinkedHashMap<>();
        Set<URI> seen = new LinkedHashSet<>();
        for (String entry : raw.split(",", -1)) {
            String e = entry.trim();
            int eq = e.indexOf('=');
            if (eq <= 0) {
                throw new FlagException("--initial-cluster: entry \"" + e
                        + "\" is not of the form name=url");
            }
            URI u = url("initial-cluster", e.substring(eq + 1).trim());
            if (!seen.add(u)) {
                throw new FlagException("--initial-cluster has duplicate url " + u);
            }
            cluster.computeIfAbsent(e.substring(0, eq).trim(), k -> new ArrayList<>()).add(u);
        }
        return cluster;
    }

    private static String join(List<URI> urls) {
        List<String> s = new ArrayList<>();
        for (URI u : urls) {
            s.add(u.toString());
        }
        return String.join(",", s);
    }

    private static String render(Map<String, List<URI>> cluster) {
        List<String> s = new ArrayList<>();
        cluster.forEach((n, urls) -> urls.forEach(u -> s.add(n + "=" + u)));
        return String.join(",", s);
    }

    // ---------------------------------------------------------------------------- help

    /** The help text: usage, then every flag with its argument, default and description. */
    public static String help() {
        StringBuilder sb = new StringBuilder();
        sb.append("Usage: raftkv [flags]\n")
                .append("       raftkv snapshot restore <file> --name <name> --data-dir <dir> --initial-cluster <...>\n")
                .append("           --initial-cluster-token <token> --initial-advertise-peer-urls <urls>\n")
                .append("           (seeds a member of a NEW cluster from an 'etcdctl snapshot save' file)\n\n")
                .append("Runs one raftkv member: a Raft-replicated key-value store that serves the")
                .append(" etcd v3 gRPC API.\n")
                .append("Flags are etcd's: --flag value, --flag=value and -flag value all work.\n\n")
                .append("Flags:\n");
        for (Flag f : FLAGS) {
            sb.append("  --").append(f.name());
            if (!f.arg().isEmpty()) {
                sb.append(" <").append(f.arg()).append('>');
            }
            sb.append('\n').append("        ").append(f.description());
            if (!f.arg().isEmpty()) {
                sb.append(" (default \"").append(f.defaultValue()).append("\")");
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    // ---------------------------------------------------------------------------- ids

    /** This member's id, from its name and its peer URLs in the initial cluster. */
    public long memberId() {
        return memberId(name);
    }

    /**
     * The id of bootstrap member {@code memberName}, which every member computes alike.
     *
     * @throws IllegalArgumentException when the name is not in the initial cluster
     */
    public long memberId(String memberName) {
        List<URI> urls = initialCluster.get(memberName);
        if (urls == null) {
            throw new IllegalArgumentException("no member " + memberName + " in the initial"
                    + " cluster");
        }
        return memberId(memberName, urls, initialClusterToken);
    }

    /** Every bootstrap member's id, in {@code --initial-cluster} order. */
    public Map<String, Long> memberIds() {
        Map<String, Long> ids = new LinkedHashMap<>();
        for (String n : initialCluster.keySet()) {
            ids.put(n, memberId(n));
        }
        return Collections.unmodifiableMap(ids);
    }

    /** This cluster's id, from the initial cluster and the token. */
    public long clusterId() {
        return clusterId(initialCluster, initialClusterToken);
    }

    /**
     * A member id: the first non-zero 64 bits of SHA-256 over the name, the sorted peer URLs and
     * the cluster token (0 means "no member" in Raft and etcd, so it is never returned). The
     * order the URLs are given in does not matter.
     */
    public static long memberId(String name, List<URI> peerUrls, String token) {
        StringBuilder sb = new StringBuilder("raftkv-member\0").append(name).append('\0');
        sb.append(String.join(",", sortedStrings(peerUrls))).append('\0').append(token);
        return nonZeroHash(sb.toString());
    }

    /**
     * A cluster id: the first non-zero 64 bits of SHA-256 over every member (sorted by name, each
     * with its sorted URLs) and the token. Neither member nor URL order matters.
     */
    public static long clusterId(Map<String, List<URI>> cluster, String token) {
        StringBuilder sb = new StringBuilder("raftkv-cluster\0");
        new TreeMap<>(cluster).forEach((n, urls) -> sb.append(n).append('=')
                .append(String.join(",", sortedStrings(urls))).append('\n'));
        sb.append('\0').append(token);
        return nonZeroHash(sb.toString());
    }

    private static List<String> sortedStrings(List<URI> urls) {
        List<String> s = new ArrayList<>();
        for (URI u : urls) {
            s.add(u.toString());
        }
        Collections.sort(s);
        return s;
    }

    private static long nonZeroHash(String text) {
        byte[] digest;
        try {
            digest = MessageDigest.getInstance("SHA-256")
                    .digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
        ByteBuffer buf = ByteBuffer.wrap(digest);
        while (buf.remaining() >= Long.BYTES) {
            long id = buf.getLong();
            if (id != 0) {
                return id;
            }
        }
        return 1;
    }
}
