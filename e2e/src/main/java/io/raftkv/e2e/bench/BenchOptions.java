package io.raftkv.e2e.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The bench tool's command line, parsed and checked. Immutable; flag names and meanings follow
 * etcd's own {@code tools/benchmark} where it has the same concept.
 *
 * @param load         which load to run
 * @param endpoints    client URLs ({@code http://host:port} or {@code host:port})
 * @param clients      concurrent clients (each has one request in flight at a time)
 * @param conns        gRPC connections shared by the clients (client i uses connection i mod conns)
 * @param keySize      key length in bytes
 * @param valSize      value length in bytes
 * @param keySpace     number of distinct keys; keys are chosen uniformly at random
 * @param total        requests to issue in all, or 0 to run for {@code duration}
 * @param duration     how long to run when {@code total} is 0
 * @param warmup       how long to run the load unmeasured first (JIT warm-up, connections)
 * @param rate         cap on requests per second over all clients, or 0 for no cap
 * @param targetLeader send every request to the leader (found via Maintenance.Status) rather
 *                     than spreading connections over all members
 * @param watchers     watch fan-out: watchers, all on one key
 * @param watchStreams watch fan-out: Watch streams the watchers share (0: one per connection)
 * @param progress     draw a progress bar (default: when stdout is a terminal)
 * @param label        free text echoed in the RESULT line
 */
public record BenchOptions(Load load, List<String> endpoints, int clients, int conns, int keySize, int valSize,
                           int keySpace, long total, Duration duration, Duration warmup, double rate, boolean targetLeader,
                           int watchers, int watchStreams, boolean progress, String label) {

    /** A load the tool can run. */
    public enum Load {
        /** Put of a random key. */
        PUT,
        /** Linearizable Range of one random key (etcd's default consistency). */
        RANGE,
        /** Serializable Range of one random key (answered from the member's local state). */
        RANGE_SERIALIZABLE,
        /** Txn with no compares and one Put in the success branch. */
        TXN_PUT,
        /** Many watchers on one key; {@code clients} writers put to it; latency is put-to-event. */
        WATCH;

        static Load parse(String s) {
            return switch (s.toLowerCase(Locale.ROOT)) {
                case "put" -> PUT;
                case "range", "range-linearizable" -> RANGE;
                case "range-serializable" -> RANGE_SERIALIZABLE;
                case "txn-put" -> TXN_PUT;
                case "watch", "watch-fanout" -> WATCH;
                default -> throw new IllegalArgumentException("unknown load '" + s
                        + "' (put, range, range-serializable, txn-put, watch)");
            };
        }

        /** The name used on the command line and in RESULT lines. */
        public String flagName() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    /** The usage text printed by {@code --help} and on a bad flag. */
    public static final String USAGE = """
            Usage: raftkv-bench <load> [flags]

            Loads: put | range | range-serializable | txn-put | watch
              put                 Put of a random key from --key-space
              range               linearizable Range of a random key
              range-serializable  serializable Range of a random key
              txn-put             Txn { success: [Put random key] }
              watch               --watchers watchers on one key; --clients writers put to it;
                                  latency is from Put sent to event received, per watcher

            Flags:
              --endpoints LIST       comma-separated client URLs (default http://127.0.0.1:2379)
              --clients N            concurrent clients, one request in flight each (default 1)
              --conns N              gRPC connections shared by the clients (default 1)
              --key-size N           key bytes (default 8)
              --val-size N           value bytes (default 8)
              --key-space N          distinct keys, chosen at random (default 10000)
              --total N              requests in all (default 10000 unless --duration is given)
              --duration D           run this long instead, e.g. 10s, 1m, 500ms
              --warmup D             run the load unmeasured for D first (default 0)
              --rate R               at most R requests/s over all clients (default: no cap)
              --target-leader        send everything to the current leader
              --all-members          spread connections over all endpoints (default)
              --watchers N           watch: watchers (default 1000)
              --watch-streams N      watch: Watch streams shared by the watchers (default: --conns)
              --progress / --no-progress   force the progress bar on/off (default: on a terminal)
              --label TEXT           free text copied into the RESULT line
              --help                 this text

            Exit status: 0 ran; 2 bad flags; 3 the server does not implement the load (UNIMPLEMENTED);
            1 other failure.
            """;

    /** Parses {@code args}; throws IllegalArgumentException with a user-facing message. */
    public static BenchOptions parse(String[] args) {
        Load load = null;
        List<String> endpoints = List.of("http://127.0.0.1:2379");
        int clients = 1;
        int conns = 1;
        int keySize = 8;
        int valSize = 8;
        int keySpace = 10000;
        long total = -1;
        Duration duration = null;
        Duration warmup = Duration.ZERO;
        double rate = 0;
        boolean targetLeader = false;
        int watchers = 1000;
        int watchStreams = 0;
        Boolean progress = null;
        String label = "";
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String value = null;
            int eq = a.indexOf('=');
            if (a.startsWith("--") && eq > 0) {
                value = a.substring(eq + 1);
                a = a.substring(0, eq);
            }
            switch (a) {
                case "--target-leader" -> targetLeader = true;
                case "--all-members" -> targetLeader = false;
                case "--progress" -> progress = true;
                case "--no-progress" -> progress = false;
                case "--endpoints", "--clients", "--conns", "--key-size", "--val-size", "--key-space", "--total",
                        "--duration", "--warmup", "--rate", "--watchers", "--watch-streams", "--label" -> {
                    if (value == null) {
                        if (i + 1 >= args.length) {
                            throw new IllegalArgumentException(a + " needs a value");
                        }
                        value = args[++i];
                    }
                    switch (a) {
                        case "--endpoints" -> endpoints = splitList(value);
                        case "--clients" -> clients = positive(a, value);
                        case "--conns" -> conns = positive(a, value);
                        case "--key-size" -> keySize = positive(a, value);
                        case "--val-size" -> valSize = nonNegative(a, value);
                        case "--key-space" -> keySpace = positive(a, value);
                        case "--total" -> total = positive(a, value);
                        case "--duration" -> duration = parseDuration(value);
                        case "--warmup" -> warmup = parseDuration(value);
                        case "--rate" -> rate = Double.parseDouble(value);
                        case "--watchers" -> watchers = positive(a, value);
                        case "--watch-streams" -> watchStreams = positive(a, value);
                        case "--label" -> label = value;
                        default -> throw new IllegalStateException(a);
                    }
                }
                default -> {
                    if (a.startsWith("-")) {
                        throw new IllegalArgumentException("unknown flag '" + a + "'");
                    }
                    if (load != null) {
                        throw new IllegalArgumentException("one load only (got '" + load.flagName() + "' and '" + a + "')");
                    }
                    load = Load.parse(a);
                }
            }
        }
        if (load == null) {
            throw new IllegalArgumentException("name a load: put, range, range-serializable, txn-put or watch");
        }
        if (total > 0 && duration != null) {
            throw new IllegalArgumentException("give --total or --duration, not both");
        }
        if (total < 0) {
            total = duration == null ? 10000 : 0;
        }
        if (rate < 0) {
            throw new IllegalArgumentException("--rate must be >= 0");
        }
        if (keySize < 4) {
            throw new IllegalArgumentException("--key-size must be at least 4");
        }
        if (load == Load.WATCH && valSize < 8) {
            valSize = 8; // the put carries its send time
        }
        if (watchStreams == 0) {
            watchStreams = Math.min(conns, watchers);
        }
        boolean bar = progress != null ? progress : System.console() != null;
        return new BenchOptions(load, endpoints, clients, conns, keySize, valSize, keySpace, total,
                duration == null ? Duration.ZERO : duration, warmup, rate, targetLeader, watchers, watchStreams, bar, label);
    }

    private static List<String> splitList(String v) {
        List<String> out = new ArrayList<>();
        for (String s : v.split(",")) {
            if (!s.isBlank()) {
                out.add(s.trim());
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("--endpoints is empty");
        }
        return out;
    }

    private static int positive(String flag, String v) {
        int n = Integer.parseInt(v);
        if (n < 1) {
            throw new IllegalArgumentException(flag + " must be at least 1, got " + v);
        }
        return n;
    }

    private static int nonNegative(String flag, String v) {
        int n = Integer.parseInt(v);
        if (n < 0) {
            throw new IllegalArgumentException(flag + " must be >= 0, got " + v);
        }
        return n;
    }

    static Duration parseDuration(String v) {
        String s = v.trim().toLowerCase(Locale.ROOT);
        try {
            if (s.endsWith("ms")) {
                return Duration.ofMillis(Long.parseLong(s.substring(0, s.length() - 2)));
            }
            if (s.endsWith("s")) {
                return Duration.ofMillis((long) (Double.parseDouble(s.substring(0, s.length() - 1)) * 1000));
            }
            if (s.endsWith("m")) {
                return Duration.ofSeconds(Long.parseLong(s.substring(0, s.length() - 1)) * 60);
            }
            return Duration.ofSeconds(Long.parseLong(s));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad duration '" + v + "' (use e.g. 10s, 500ms, 1m)");
        }
    }

    /** The total when one was given, else -1 (run for {@link #duration()}). */
    public boolean byCount() {
        return total > 0;
    }
}
