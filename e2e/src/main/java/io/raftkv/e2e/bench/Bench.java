package io.raftkv.e2e.bench;

import com.google.protobuf.ByteString;
import io.etcd.jetcd.api.KVGrpc;
import io.etcd.jetcd.api.MaintenanceGrpc;
import io.etcd.jetcd.api.PutRequest;
import io.etcd.jetcd.api.RangeRequest;
import io.etcd.jetcd.api.RequestOp;
import io.etcd.jetcd.api.StatusRequest;
import io.etcd.jetcd.api.StatusResponse;
import io.etcd.jetcd.api.TxnRequest;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.raftkv.e2e.bench.BenchOptions.Load;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The {@code raftkv-bench} entry point: runs one load against etcd v3 endpoints and prints its
 * throughput and latency percentiles.
 *
 * <p>Clients are closed-loop: each keeps exactly one request in flight and sends the next when the
 * answer (or an error) arrives, optionally paced by {@code --rate}. Requests go through raw
 * grpc-java stubs (the etcd API classes shipped with jetcd), so the client adds as little work as
 * possible on a machine that it shares with the servers it measures.
 */
public final class Bench {
    /** Exit status when the server answers UNIMPLEMENTED for the load's service. */
    public static final int EXIT_UNSUPPORTED = 3;
    private static final long MAX_LATENCY_MICROS = TimeUnit.MINUTES.toMicros(5);
    private static final long REQUEST_DEADLINE_SECONDS = 30;

    private final BenchOptions opt;
    private final PrintStream out;
    private final List<ManagedChannel> channels = new ArrayList<>();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "bench-timer");
        t.setDaemon(true);
        return t;
    });
    final Recorder latency = new Recorder(MAX_LATENCY_MICROS, 3);
    final LongAdder completed = new LongAdder();
    final Map<String, LongAdder> errors = new ConcurrentHashMap<>();
    volatile Status unsupported;

    Bench(BenchOptions opt, PrintStream out) {
        this.opt = opt;
        this.out = out;
    }

    /** Runs the tool; see {@link BenchOptions#USAGE} for flags and exit codes. */
    public static void main(String[] args) {
        java.util.logging.Logger.getLogger("io.grpc").setLevel(java.util.logging.Level.WARNING);
        if (Arrays.asList(args).contains("--help") || Arrays.asList(args).contains("-h")) {
            System.out.print(BenchOptions.USAGE);
            return;
        }
        BenchOptions opt;
        try {
            opt = BenchOptions.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("raftkv-bench: " + e.getMessage());
            System.err.print(BenchOptions.USAGE);
            System.exit(2);
            return;
        }
        int code;
        Bench b = new Bench(opt, System.out);
        try {
            code = b.run();
        } catch (Exception e) {
            System.err.println("raftkv-bench: " + e);
            code = 1;
        } finally {
            b.shutdown();
        }
        System.exit(code);
    }

    int run() throws Exception {
        List<String> targets = targets();
        for (int i = 0; i < opt.conns(); i++) {
            channels.add(ManagedChannelBuilder.forTarget(targets.get(i % targets.size()))
                    .usePlaintext().directExecutor().maxInboundMessageSize(64 << 20).build());
        }
        out.printf(Locale.ROOT, "load %s: clients %d, conns %d over %s (%s), key %d B, value %d B, key space %d, %s%s%n",
                opt.load().flagName(), opt.clients(), opt.conns(), targets, opt.targetLeader() ? "leader" : "all members",
                opt.keySize(), opt.valSize(), opt.keySpace(),
                (opt.byCount() ? opt.total() + " requests" : opt.duration().toMillis() / 1000.0 + " s")
                        + (opt.warmup().isZero() ? "" : " after " + opt.warmup().toMillis() / 1000.0 + " s warm-up"),
                opt.rate() > 0 ? ", rate " + opt.rate() + "/s" : "");
        if (opt.load() == Load.WATCH) {
            return new WatchFanout(this, opt, channels, timer).run();
        }
        if (!opt.warmup().isZero()) {
            runPhase(0, System.nanoTime() + opt.warmup().toNanos());
            latency.getIntervalHistogram();
            completed.reset();
            errors.clear();
        }
        Progress progress = Progress.start(opt, completed::sum, timer);
        long t0 = System.nanoTime();
        runPhase(opt.total(), t0 + opt.duration().toNanos());
        double secs = (System.nanoTime() - t0) / 1e9;
        progress.stop();
        if (unsupported != null) {
            reportUnsupported(unsupported);
            return EXIT_UNSUPPORTED;
        }
        report(opt.load().flagName(), completed.sum(), secs, latency.getIntervalHistogram(), "");
        return completed.sum() > 0 ? 0 : 1;
    }

    /** Runs every client until {@code total} requests (if positive) or until {@code endNanos}. */
    private void runPhase(long total, long endNanos) throws InterruptedException {
        CountDownLatch done = new CountDownLatch(opt.clients());
        AtomicLong issued = new AtomicLong();
        long t0 = System.nanoTime();
        for (int c = 0; c < opt.clients(); c++) {
            new Client(channels.get(c % channels.size()), issued, t0, total, endNanos, done).next();
        }
        done.await();
    }

    /** A closed-loop KV client (put, range, txn-put). */
    private final class Client extends ClosedLoop {
        private final KVGrpc.KVStub kv;

        Client(ManagedChannel ch, AtomicLong issued, long t0, long total, long endNanos, CountDownLatch done) {
            super(opt, Bench.this, timer, issued, t0, total, endNanos, done);
            this.kv = KVGrpc.newStub(ch);
        }

        @Override
        void send() {
            long start = System.nanoTime();
            ByteString key = randomKey();
            KVGrpc.KVStub stub = kv.withDeadlineAfter(REQUEST_DEADLINE_SECONDS, TimeUnit.SECONDS);
            switch (opt.load()) {
                case PUT -> stub.put(PutRequest.newBuilder().setKey(key).setValue(value(opt.valSize())).build(),
                        observer(start));
                case RANGE, RANGE_SERIALIZABLE -> stub.range(RangeRequest.newBuilder().setKey(key)
                        .setSerializable(opt.load() == Load.RANGE_SERIALIZABLE).build(), observer(start));
                case TXN_PUT -> stub.txn(TxnRequest.newBuilder().addSuccess(RequestOp.newBuilder().setRequestPut(
                        PutRequest.newBuilder().setKey(key).setValue(value(opt.valSize())))).build(), observer(start));
                default -> throw new IllegalStateException(opt.load().toString());
            }
        }

        <T> StreamObserver<T> observer(long start) {
            return new StreamObserver<>() {
                @Override
                public void onNext(T value) {
                    latency.recordValue(Math.min(MAX_LATENCY_MICROS, (System.nanoTime() - start) / 1000));
                    completed.increment();
                }

                @Override
                public void onError(Throwable t) {
                    failedThenNext(t);
                }

                @Override
                public void onCompleted() {
                    next();
                }
            };
        }
    }

    /**
     * Counts a failed request by its gRPC code (the caller backs off before its next request).
     * Records UNIMPLEMENTED, which ends the run.
     */
    void failed(Throwable t) {
        Status s = Status.fromThrowable(t);
        if (s.getCode() == Status.Code.UNIMPLEMENTED) {
            unsupported = s;
        }
        errors.computeIfAbsent(s.getCode() + (s.getDescription() == null ? "" : ": " + s.getDescription()),
                k -> new LongAdder()).increment();
    }

    ByteString randomKey() {
        int k = ThreadLocalRandom.current().nextInt(opt.keySpace());
        return key(k);
    }

    /** Key number {@code k} as a fixed-width decimal string padded to {@code --key-size}. */
    ByteString key(int k) {
        byte[] b = new byte[opt.keySize()];
        Arrays.fill(b, (byte) '0');
        byte[] digits = Integer.toString(k).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(digits, 0, b, Math.max(0, b.length - digits.length), Math.min(b.length, digits.length));
        return ByteString.copyFrom(b);
    }

    private static ByteString value(int size) {
        byte[] v = new byte[size];
        ThreadLocalRandom.current().nextBytes(v);
        return ByteString.copyFrom(v);
    }

    /** The gRPC targets for the connections: the leader alone, or every endpoint. */
    private List<String> targets() {
        List<String> all = new ArrayList<>();
        for (String e : opt.endpoints()) {
            all.add(target(e));
        }
        if (!opt.targetLeader()) {
            return all;
        }
        for (String t : all) {
            ManagedChannel ch = ManagedChannelBuilder.forTarget(t).usePlaintext().build();
            try {
                StatusResponse s = MaintenanceGrpc.newBlockingStub(ch).withDeadlineAfter(5, TimeUnit.SECONDS)
                        .status(StatusRequest.getDefaultInstance());
                if (s.getLeader() != 0 && s.getLeader() == s.getHeader().getMemberId()) {
                    return List.of(t);
                }
            } catch (StatusRuntimeException e) {
                System.err.println("raftkv-bench: " + t + " did not answer Status: " + e.getStatus());
            } finally {
                ch.shutdownNow();
            }
        }
        throw new IllegalStateException("no endpoint of " + all + " reports itself as the leader");
    }

    private static String target(String endpoint) {
        if (endpoint.contains("://")) {
            URI u = URI.create(endpoint);
            return u.getHost() + ":" + u.getPort();
        }
        return endpoint;
    }

    void reportUnsupported(Status s) {
        out.println(opt.load().flagName() + ": unsupported by the server (" + s.getCode()
                + (s.getDescription() == null ? "" : ": " + s.getDescription()) + ")");
        out.println("RESULT load=" + opt.load().flagName() + " unsupported=1 label=" + opt.label());
    }

    /** Prints the human-readable summary and the RESULT line. */
    void report(String what, long ops, double secs, Histogram h, String extra) {
        long errs = errors.values().stream().mapToLong(LongAdder::sum).sum();
        double rps = ops / secs;
        out.printf(Locale.ROOT, "%s: %d ok, %d errors in %.2f s%n", what, ops, errs, secs);
        out.printf(Locale.ROOT, "throughput  %.1f /s%n", rps);
        out.printf(Locale.ROOT, "latency ms  p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f%n",
                ms(h, 50), ms(h, 90), ms(h, 99), ms(h, 99.9), h.getMaxValue() / 1000.0);
        if (errs > 0) {
            new TreeMap<>(errors).forEach((k, v) -> out.println("  error " + v.sum() + " x " + k));
        }
        if (!extra.isEmpty()) {
            out.println(extra);
        }
        out.printf(Locale.ROOT, "RESULT load=%s clients=%d conns=%d ops=%d errors=%d secs=%.3f rps=%.1f"
                        + " p50=%.3f p90=%.3f p99=%.3f p999=%.3f max=%.3f label=%s%n",
                opt.load().flagName(), opt.clients(), opt.conns(), ops, errs, secs, rps, ms(h, 50), ms(h, 90),
                ms(h, 99), ms(h, 99.9), h.getMaxValue() / 1000.0, opt.label());
    }

    private static double ms(Histogram h, double percentile) {
        return h.getValueAtPercentile(percentile) / 1000.0;
    }

    private void shutdown() {
        timer.shutdownNow();
        for (ManagedChannel ch : channels) {
            ch.shutdownNow();
        }
    }
}
