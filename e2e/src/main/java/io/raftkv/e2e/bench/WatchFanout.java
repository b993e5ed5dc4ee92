package io.raftkv.e2e.bench;

import com.google.protobuf.ByteString;
import io.etcd.jetcd.api.Event;
import io.etcd.jetcd.api.KVGrpc;
import io.etcd.jetcd.api.PutRequest;
import io.etcd.jetcd.api.PutResponse;
import io.etcd.jetcd.api.WatchCreateRequest;
import io.etcd.jetcd.api.WatchGrpc;
import io.etcd.jetcd.api.WatchRequest;
import io.etcd.jetcd.api.WatchResponse;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import org.HdrHistogram.Recorder;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The watch fan-out load: {@code --watchers} watchers on one key, spread over
 * {@code --watch-streams} Watch streams (several watch ids per stream, as etcd clients do), and
 * {@code --clients} closed-loop writers putting to that key. Each put's value starts with its
 * send time, so every delivered event yields one put-to-event latency sample. Throughput is
 * events delivered per second; events missing after the writers stop (10 s grace) are reported.
 */
final class WatchFanout {
    private static final long CREATE_TIMEOUT_SECONDS = 60;
    private static final long DRAIN_TIMEOUT_SECONDS = 10;
    private final Bench bench;
    private final BenchOptions opt;
    private final List<ManagedChannel> channels;
    private final ScheduledExecutorService timer;
    private final Recorder latency = new Recorder(TimeUnit.MINUTES.toMicros(5), 3);
    private final LongAdder events = new LongAdder();
    private final LongAdder puts = new LongAdder();
    private final CountDownLatch created;
    private final List<StreamObserver<WatchRequest>> streams = new ArrayList<>();
    private final ByteString key;
    private volatile boolean finished;

    WatchFanout(Bench bench, BenchOptions opt, List<ManagedChannel> channels, ScheduledExecutorService timer) {
        this.bench = bench;
        this.opt = opt;
        this.channels = channels;
        this.timer = timer;
        this.created = new CountDownLatch(opt.watchers());
        this.key = bench.key(0).concat(ByteString.copyFromUtf8("-watch"));
    }

    int run() throws InterruptedException {
        for (int s = 0; s < opt.watchStreams(); s++) {
            streams.add(WatchGrpc.newStub(channels.get(s % channels.size())).watch(new Receiver()));
        }
        for (int w = 0; w < opt.watchers(); w++) {
            StreamObserver<WatchRequest> stream = streams.get(w % streams.size());
            synchronized (stream) {
                stream.onNext(WatchRequest.newBuilder().setCreateRequest(
                        WatchCreateRequest.newBuilder().setKey(key)).build());
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(CREATE_TIMEOUT_SECONDS);
        while (!created.await(100, TimeUnit.MILLISECONDS)) {
            if (bench.unsupported != null) {
                bench.reportUnsupported(bench.unsupported);
                return Bench.EXIT_UNSUPPORTED;
            }
            if (System.nanoTime() > deadline) {
                System.err.printf("raftkv-bench: only %d of %d watchers were created within %d s%n",
                        opt.watchers() - created.getCount(), opt.watchers(), CREATE_TIMEOUT_SECONDS);
                return 1;
            }
        }
        if (!opt.warmup().isZero()) {
            runWriters(0, System.nanoTime() + opt.warmup().toNanos());
            long warmExpected = puts.sum() * opt.watchers();
            long settle = System.nanoTime() + TimeUnit.SECONDS.toNanos(DRAIN_TIMEOUT_SECONDS);
            while (events.sum() < warmExpected && System.nanoTime() < settle) {
                Thread.sleep(20);
            }
            latency.getIntervalHistogram();
            puts.reset();
            events.reset();
            bench.errors.clear();
        }
        Progress progress = Progress.start(opt, puts::sum, timer);
        long t0 = System.nanoTime();
        runWriters(opt.total(), t0 + opt.duration().toNanos());
        long expected = puts.sum() * opt.watchers();
        long drainDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(DRAIN_TIMEOUT_SECONDS);
        while (events.sum() < expected && System.nanoTime() < drainDeadline) {
            Thread.sleep(20);
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        progress.stop();
        long got = events.sum();
        String extra = String.format(Locale.ROOT, "watch: %d watchers on %d streams, %d puts (%.1f /s), %d of %d events"
                        + " delivered%s", opt.watchers(), streams.size(), puts.sum(), puts.sum() / secs, got, expected,
                got < expected ? " (" + (expected - got) + " MISSING)" : "");
        finished = true;
        bench.report("watch events", got, secs, latency.getIntervalHistogram(), extra);
        for (StreamObserver<WatchRequest> s : streams) {
            synchronized (s) {
                s.onCompleted();
            }
        }
        return got > 0 ? 0 : 1;
    }

    /** Runs the writers until {@code total} puts (if positive) or until {@code endNanos}. */
    private void runWriters(long total, long endNanos) throws InterruptedException {
        AtomicLong issued = new AtomicLong();
        CountDownLatch writersDone = new CountDownLatch(opt.clients());
        long t0 = System.nanoTime();
        for (int c = 0; c < opt.clients(); c++) {
            new Writer(KVGrpc.newStub(channels.get(c % channels.size())), issued, t0, total, endNanos, writersDone).next();
        }
        writersDone.await();
    }

    /** Receives one stream's responses: counts creations and timestamps events. */
    private final class Receiver implements StreamObserver<WatchResponse> {
        @Override
        public void onNext(WatchResponse r) {
            if (r.getCreated()) {
                created.countDown();
            }
            long now = System.nanoTime();
            for (Event e : r.getEventsList()) {
                ByteString v = e.getKv().getValue();
                if (v.size() >= Long.BYTES) {
                    long sent = ByteBuffer.wrap(v.substring(0, Long.BYTES).toByteArray()).getLong();
                    latency.recordValue(Math.max(0, Math.min(TimeUnit.MINUTES.toMicros(5), (now - sent) / 1000)));
                }
                events.increment();
            }
        }

        @Override
        public void onError(Throwable t) {
            Status s = Status.fromThrowable(t);
            bench.failed(t);
            if (!finished && s.getCode() != Status.Code.UNIMPLEMENTED && s.getCode() != Status.Code.CANCELLED) {
                System.err.println("raftkv-bench: watch stream failed: " + s);
            }
        }

        @Override
        public void onCompleted() {
        }
    }

    /** A closed-loop writer putting its send time to the watched key. */
    private final class Writer extends ClosedLoop {
        private final KVGrpc.KVStub kv;

        Writer(KVGrpc.KVStub kv, AtomicLong issued, long t0, long total, long endNanos, CountDownLatch done) {
            super(opt, bench, timer, issued, t0, total, endNanos, done);
            this.kv = kv;
        }

        @Override
        void send() {
            ByteBuffer v = ByteBuffer.allocate(opt.valSize());
            v.putLong(System.nanoTime());
            kv.withDeadlineAfter(30, TimeUnit.SECONDS).put(PutRequest.newBuilder().setKey(key)
                    .setValue(ByteString.copyFrom(v.array())).build(), new StreamObserver<>() {
                        @Override
                        public void onNext(PutResponse r) {
                            puts.increment();
                        }

                        @Override
                        public void onError(Throwable t) {
                            failedThenNext(t);
                        }

                        @Override
                        public void onCompleted() {
                            next();
                        }
                    });
        }
    }
}
