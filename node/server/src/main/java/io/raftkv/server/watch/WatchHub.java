package io.raftkv.server.watch;

import io.raftkv.mvcc.Bytes;
import io.raftkv.mvcc.Event;
import io.raftkv.mvcc.KeyValue;
import io.raftkv.mvcc.KvStore;
import io.raftkv.mvcc.MvccException;
import io.raftkv.mvcc.RangeRequest;
import io.raftkv.mvcc.RevisionListener;
import io.raftkv.server.api.EtcdCodec;
import io.raftkv.server.api.etcd.ResponseHeader;
import io.raftkv.server.api.etcd.WatchCreateRequest;
import io.raftkv.server.api.etcd.WatchResponse;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongFunction;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Every watcher of one member, and the one thread that serves them.
 *
 * <p><b>Threads.</b> All watcher state is owned by the hub thread ({@link #start()}), or by the
 * caller of {@link #drain()} in tests that run no thread. Other threads only enqueue: the apply
 * thread through {@link #listener()} and {@link #storeReplaced()} (never blocking: a revision that
 * finds the hand-off queue full is dropped there and later read back from the store), gRPC threads
 * through the {@link Stream} methods.
 *
 * <p><b>Delivery.</b> {@code hubRevision} is the last revision handed to the live ("synced")
 * group. A synced watcher has been given (or had filtered out) every event of its range from its
 * start revision up to {@code hubRevision}; an unsynced watcher has been given those below its
 * {@code nextRevision} and reads the rest from {@link KvStore#events} until it passes
 * {@code hubRevision} and rejoins the synced group. All moves happen on the hub thread between
 * two batches, which is why no event is given twice or skipped. Events of one revision are never
 * split between responses, except into etcd fragments when the watcher asked for them.
 *
 * <p><b>Memory.</b> A response leaves at once while its gRPC stream is ready; otherwise it waits in
 * the stream's queue, which holds at most {@link Options#streamBufferBytes()} of events (plus small
 * control responses and, when the queue was empty, one oversized batch). A watcher whose events do
 * not fit is moved to the unsynced group instead of growing the queue; unsynced watchers read from
 * the store only while their stream's queue is less than half full. The hand-off queue from the
 * apply thread holds at most {@link Options#maxQueuedRevisions()} revisions and 64 MiB of events.
 */
public final class WatchHub implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(WatchHub.class.getName());

    /** etcd: mvcc.ErrWatcherDuplicateID. */
    static final String DUPLICATE_ID = "mvcc: duplicate watch ID provided on the WatchStream";
    /** etcd: mvcc.ErrEmptyWatcherRange. */
    static final String EMPTY_RANGE = "mvcc: watcher range is empty";
    /** Bytes of events the hand-off queue may hold, whatever the revision count bound. */
    static final long MAX_QUEUED_BYTES = 64L << 20;
    /** Per-event overhead counted against {@link #MAX_QUEUED_BYTES}. */
    private static final int EVENT_OVERHEAD_BYTES = 64;
    /** etcd: the watch id of a response to a WatchProgressRequest (clientv3.InvalidWatchID). */
    public static final long PROGRESS_WATCH_ID = -1;

    /**
     * The hub's bounds.
     *
     * @param streamBufferBytes bytes of event responses one stream may queue while not ready
     * @param maxQueuedRevisions revisions the apply thread may queue for the hub thread
     * @param maxRevisionsPerBatch most revisions handed out (or read from the store) in one step;
     *     etcd's watchBatchMaxRevs is 1000
     * @param maxRequestBytes --max-request-bytes: fragments of a fragmenting watcher stay below it
     * @param progressNotifyIntervalMillis how often watchers with progress_notify get an empty
     *     response when they had no event (etcd's --experimental-watch-progress-notify-interval)
     */
    public record Options(long streamBufferBytes, int maxQueuedRevisions, int maxRevisionsPerBatch,
                          long maxRequestBytes, long progressNotifyIntervalMillis) {
        /** Validates the bounds. */
        public Options {
            if (streamBufferBytes <= 0 || maxQueuedRevisions <= 0 || maxRevisionsPerBatch <= 0
                    || maxRequestBytes <= 0 || progressNotifyIntervalMillis <= 0) {
                throw new IllegalArgumentException("watch hub bounds must be positive");
            }
        }

        /** 1 MiB per stream, 10,000 queued revisions, 1000 revisions per batch, etcd's 1.5 MiB
         *  request limit and 10 minute progress interval. */
        public static Options defaults() {
            return new Options(1 << 20, 10_000, 1000, 1_572_864, TimeUnit.MINUTES.toMillis(10));
        }

        /** These options with another progress notify interval. */
        public Options withProgressNotifyIntervalMillis(long millis) {
            return new Options(streamBufferBytes, maxQueuedRevisions, maxRevisionsPerBatch, maxRequestBytes, millis);
        }

        /** These options with another request size limit. */
        public Options withMaxRequestBytes(long bytes) {
            return new Options(streamBufferBytes, maxQueuedRevisions, maxRevisionsPerBatch, bytes,
                    progressNotifyIntervalMillis);
        }
    }

    /**
     * Where one stream's responses go: the gRPC server stream in production. Called on the hub
     * thread only; must not block.
     */
    public interface Sink {
        /** True while the transport takes another response without buffering much (gRPC isReady). */
        boolean isReady();

        /** Sends one response. */
        void send(WatchResponse response);
    }

    private record Revision(long revision, List<Event> events, long bytes) {
    }

    private final Supplier<KvStore> store;
    private final LongFunction<ResponseHeader> header;
    private final Options options;

    // Written by other threads.
    private final ConcurrentLinkedQueue<Runnable> commands = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<Revision> revisions = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queuedRevisions = new AtomicInteger();
    private final AtomicLong queuedBytes = new AtomicLong();
    private final AtomicLong latestRevision;
    private volatile Thread thread;
    private volatile boolean closed;
    /**
     * True while the hub has no watcher: revisions are then only counted, not handed over. Written
     * by the hub thread at the end of each drain, read by the apply thread.
     */
    private volatile boolean idle;
    /**
     * Watchers that asked for prev_kv. Written by the hub thread only, read by the apply thread:
     * while it is zero the store need not read a put's previous value for the event.
     */
    private volatile int prevKvWatchers;
    /** Watchers and unsynced watchers after the last round, for metrics. */
    private volatile int watcherGauge;
    private volatile int slowWatcherGauge;

    // Hub thread only.
    private long hubRevision;
    private final Map<KeyRange, Set<Watcher>> synced = new LinkedHashMap<>();
    private final Set<Watcher> unsynced = new LinkedHashSet<>();
    private final Set<Stream> streams = new LinkedHashSet<>();
    private long nextProgressTickNanos;
    /** The header built last, reused for the other watchers of the same round and revision. */
    private ResponseHeader cachedHeader;

    /**
     * Creates a hub over the live store (fetched anew for every read, since a snapshot may replace
     * it). Register {@link #listener()} with the store before the first revision is applied.
     *
     * @param header builds a response header for a revision
     */
    public WatchHub(Supplier<KvStore> store, LongFunction<ResponseHeader> header, Options options) {
        this.store = store;
        this.header = header;
        this.options = options;
        this.hubRevision = store.get().currentRevision();
        this.latestRevision = new AtomicLong(hubRevision);
    }

    /** The listener to register with the store: called on the apply thread, never blocks. */
    public RevisionListener listener() {
        return new RevisionListener() {
            @Override
            public void onRevision(long revision, List<Event> events) {
                WatchHub.this.onRevision(revision, events);
            }

            @Override
            public boolean wantsPrevValues() {
                return prevKvWatchers > 0;
            }
        };
    }

    private void onRevision(long revision, List<Event> events) {
        latestRevision.accumulateAndGet(revision, Math::max);
        if (idle) {
            // No watcher to hand it to: the hub catches up its revision when it next runs (and a
            // watcher created meanwhile reads what it needs from the store), so neither queue the
            // events nor wake the hub thread, a context switch per write. See drain() for the
            // other half of this hand-shake.
            return;
        }
        long bytes = 0;
        for (Event e : events) {
            bytes += EVENT_OVERHEAD_BYTES + e.kv().key().size() + e.kv().value().size()
                    + e.prevKv().map(p -> p.key().size() + p.value().size()).orElse(0);
        }
        if (queuedRevisions.get() < options.maxQueuedRevisions() && queuedBytes.get() + bytes <= MAX_QUEUED_BYTES) {
            queuedRevisions.incrementAndGet();
            queuedBytes.addAndGet(bytes);
            revisions.add(new Revision(revision, events, bytes));
        }
        wake();
    }

    /**
     * Tells the hub that the store was replaced (a Raft snapshot was installed): revisions up to
     * the new store's current one are read from it. Never blocks.
     */
    public void storeReplaced() {
        latestRevision.accumulateAndGet(store.get().currentRevision(), Math::max);
        wake();
    }

    /** Opens a watch stream whose responses go to {@code sink}. Thread-safe. */
    public Stream open(Sink sink) {
        return new Stream(sink);
    }

    /** Starts the hub thread. */
    public synchronized void start() {
        if (thread != null) {
            return;
        }
        Thread t = new Thread(this::run, "raftkv-watch");
        t.setDaemon(true);
        thread = t;
        t.start();
    }

    private void run() {
        nextProgressTickNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(options.progressNotifyIntervalMillis());
        while (!closed) {
            try {
                drain();
                if (System.nanoTime() - nextProgressTickNanos >= 0) {
                    progressTick();
                    drain();
                    nextProgressTickNanos = System.nanoTime()
                            + TimeUnit.MILLISECONDS.toNanos(options.progressNotifyIntervalMillis());
                }
            } catch (RuntimeException e) {
                // A failed store read (for instance of a store just closed by a snapshot install)
                // is retried on the next round; watcher state is only changed after a read succeeds.
                LOG.log(Level.WARNING, "watch hub round failed, retrying", e);
            }
            long untilTick = nextProgressTickNanos - System.nanoTime();
            LockSupport.parkNanos(this, Math.max(1, Math.min(untilTick, TimeUnit.MILLISECONDS.toNanos(100))));
        }
    }

    private void wake() {
        Thread t = thread;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    /** Stops the hub thread. Streams are not answered any more. */
    @Override
    public void close() {
        closed = true;
        Thread t = thread;
        if (t != null) {
            LockSupport.unpark(t);
            try {
                t.join(TimeUnit.SECONDS.toMillis(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    // ------------------------------------------------------------------ hub thread

    /**
     * Does all the work there is: runs queued commands, hands new revisions to synced watchers,
     * lets unsynced watchers catch up while their streams have room, sends what streams take,
     * answers progress requests. Hub thread only (tests without a thread call it directly).
     */
    public void drain() {
        boolean progressed;
        do {
            do {
                cachedHeader = null;
                progressed = runCommands();
                progressed |= dispatchRevisions();
                progressed |= catchUp();
                for (Stream s : streams) {
                    s.flush();
                }
                answerProgressRequests();
            } while (progressed);
            slowWatcherGauge = unsynced.size();
            watcherGauge = unsynced.size() + syncedCount();
            idle = watcherGauge == 0;
            // The apply thread writes latestRevision, then reads idle; this thread wrote idle,
            // now reads latestRevision: one of the two sees the other's write (both volatile), so
            // a revision that arrived while idle was still true is dispatched here, not left for
            // the next timed wake-up.
        } while (!idle && latestRevision.get() > hubRevision);
    }

    /** Watchers after the last round (etcd_debugging_mvcc_watcher_total). Thread-safe. */
    public int watchers() {
        return watcherGauge;
    }

    /**
     * Unsynced watchers after the last round: behind, served from the store
     * (etcd_debugging_mvcc_slow_watcher_total). Thread-safe.
     */
    public int slowWatchers() {
        return slowWatcherGauge;
    }

    /**
     * etcd's progress notify: every watcher with progress_notify that is synced and was given no
     * event since the last tick receives an empty response carrying the current revision. Hub
     * thread only.
     */
    public void progressTick() {
        cachedHeader = null;
        for (Stream s : streams) {
            for (Watcher w : s.watchers.values()) {
                if (w.progressNotify && !w.sentSinceTick && w.synced && s.hasRoom()) {
                    s.enqueue(WatchResponse.newBuilder().setHeader(headerFor(hubRevision))
                            .setWatchId(w.id).build());
                }
                w.sentSinceTick = false;
            }
            s.flush();
        }
    }

    /**
     * The response header for {@code revision}; one header serves every watcher of a round (a
     * thousand watchers of one prefix would otherwise build a thousand equal headers per batch).
     */
    private ResponseHeader headerFor(long revision) {
        ResponseHeader h = cachedHeader;
        if (h == null || h.getRevision() != revision) {
            h = header.apply(revision);
            cachedHeader = h;
        }
        return h;
    }

    private boolean runCommands() {
        boolean any = false;
        for (Runnable r = commands.poll(); r != null; r = commands.poll()) {
            r.run();
            any = true;
        }
        return any;
    }

    /** Hands every revision up to the latest one to the synced group, in batches. */
    private boolean dispatchRevisions() {
        long target = latestRevision.get();
        boolean any = false;
        while (hubRevision < target) {
            any = true;
            Revision head = revisions.peek();
            while (head != null && head.revision() <= hubRevision) {
                takeHead();
                head = revisions.peek();
            }
            if (head != null && head.revision() == hubRevision + 1) {
                List<Revision> batch = new ArrayList<>();
                while (head != null && head.revision() == hubRevision + 1 + batch.size()
                        && batch.size() < options.maxRevisionsPerBatch()) {
                    batch.add(takeHead());
                    head = revisions.peek();
                }
                deliverLive(batch);
                hubRevision = batch.get(batch.size() - 1).revision();
            } else {
                // A gap: revisions were dropped at the hand-off or a snapshot replaced the store.
                // Every synced watcher reads the gap from the store itself.
                long to = head == null ? target : Math.min(target, head.revision() - 1);
                unsyncAll();
                hubRevision = to;
            }
        }
        return any;
    }

    private Revision takeHead() {
        Revision r = revisions.poll();
        queuedRevisions.decrementAndGet();
        queuedBytes.addAndGet(-r.bytes());
        return r;
    }

    private void unsyncAll() {
        for (Set<Watcher> group : synced.values()) {
            for (Watcher w : group) {
                w.nextRevision = Math.max(w.nextRevision, hubRevision + 1);
                w.synced = false;
                unsynced.add(w);
            }
        }
        synced.clear();
    }

    private void deliverLive(List<Revision> batch) {
        long first = batch.get(0).revision();
        long last = batch.get(batch.size() - 1).revision();
        List<Event> events = new ArrayList<>();
        for (Revision r : batch) {
            events.addAll(r.events());
        }
        EventProtos protos = new EventProtos(events, store.get());
        List<Watcher> overflowed = new ArrayList<>();
        for (Map.Entry<KeyRange, Set<Watcher>> group : synced.entrySet()) {
            List<Integer> matching = new ArrayList<>();
            for (int i = 0; i < events.size(); i++) {
                if (group.getKey().contains(events.get(i).kv().key())) {
                    matching.add(i);
                }
            }
            if (matching.isEmpty()) {
                continue;
            }
            for (Watcher w : group.getValue()) {
                if (!w.stream.offer(w, protos, matching, last, false)) {
                    w.nextRevision = Math.max(w.nextRevision, first);
                    overflowed.add(w);
                }
            }
        }
        for (Watcher w : overflowed) {
            moveToUnsynced(w);
        }
    }

    /** One store read per unsynced watcher whose stream has room; true if any advanced. */
    private boolean catchUp() {
        boolean any = false;
        for (Iterator<Watcher> it = new ArrayList<>(unsynced).iterator(); it.hasNext(); ) {
            Watcher w = it.next();
            if (w.nextRevision > hubRevision) {
                moveToSynced(w);
                any = true;
                continue;
            }
            if (!w.stream.hasRoom()) {
                continue;
            }
            long to = Math.min(hubRevision, w.nextRevision + options.maxRevisionsPerBatch() - 1);
            List<Event> events;
            KvStore s = store.get();
            try {
                events = s.events(w.nextRevision, to);
            } catch (MvccException e) {
                if (e.code() != MvccException.Code.COMPACTED) {
                    throw e;
                }
                cancelCompacted(w, s.compactRevision());
                any = true;
                continue;
            }
            EventProtos protos = new EventProtos(events, s);
            List<Integer> matching = new ArrayList<>();
            for (int i = 0; i < events.size(); i++) {
                if (w.range.contains(events.get(i).kv().key())) {
                    matching.add(i);
                }
            }
            if (!matching.isEmpty() && !w.stream.offer(w, protos, matching, hubRevision, true)) {
                continue;
            }
            w.nextRevision = to + 1;
            any = true;
            if (w.nextRevision > hubRevision) {
                moveToSynced(w);
            }
        }
        return any;
    }

    private void cancelCompacted(Watcher w, long compactRevision) {
        w.stream.remove(w);
        w.stream.enqueue(WatchResponse.newBuilder().setHeader(headerFor(hubRevision)).setWatchId(w.id)
                .setCanceled(true).setCompactRevision(compactRevision)
                .setCancelReason(MvccException.Code.COMPACTED.message()).build());
    }

    private void answerProgressRequests() {
        for (Stream s : streams) {
            if (s.progressRequested && s.watchers.values().stream().allMatch(w -> w.synced)) {
                s.progressRequested = false;
                s.enqueue(WatchResponse.newBuilder().setHeader(headerFor(hubRevision))
                        .setWatchId(PROGRESS_WATCH_ID).build());
                s.flush();
            }
        }
    }

    private void moveToSynced(Watcher w) {
        unsynced.remove(w);
        w.synced = true;
        synced.computeIfAbsent(w.range, k -> new LinkedHashSet<>()).add(w);
    }

    private void moveToUnsynced(Watcher w) {
        Set<Watcher> group = synced.get(w.range);
        if (group != null) {
            group.remove(w);
            if (group.isEmpty()) {
                synced.remove(w.range);
            }
        }
        w.synced = false;
        unsynced.add(w);
    }

    private void forget(Watcher w) {
        if (w.synced) {
            moveToUnsynced(w);
        }
        unsynced.remove(w);
    }

    // ------------------------------------------------------------------ introspection for tests

    /** Number of watchers in the synced group. Hub thread only. */
    public int syncedCount() {
        return synced.values().stream().mapToInt(Set::size).sum();
    }

    /** Number of watchers in the unsynced group. Hub thread only. */
    public int unsyncedCount() {
        return unsynced.size();
    }

    /** Revisions waiting in the hand-off queue from the apply thread. Thread-safe. */
    public int queuedRevisions() {
        return queuedRevisions.get();
    }

    // ------------------------------------------------------------------ types

    /** A key range as etcd watches it: one key, [key, end), or every key from key on. */
    record KeyRange(Bytes key, Bytes end, boolean single) {
        static KeyRange of(WatchCreateRequest req) {
            Bytes key = req.getKey().isEmpty() ? Bytes.NUL : EtcdCodec.toMvcc(req.getKey());
            if (req.getRangeEnd().isEmpty()) {
                return new KeyRange(key, Bytes.EMPTY, true);
            }
            Bytes end = EtcdCodec.toMvcc(req.getRangeEnd());
            return new KeyRange(key, end.equals(Bytes.NUL) ? Bytes.EMPTY : end, false);
        }

        boolean empty() {
            return !single && !end.isEmpty() && key.compareTo(end) >= 0;
        }

        boolean contains(Bytes k) {
            if (single) {
                return key.equals(k);
            }
            return k.compareTo(key) >= 0 && (end.isEmpty() || k.compareTo(end) < 0);
        }
    }

    /**
     * The proto form of a batch's events, built once per batch, with and without prev_kv. A put
     * that the store applied while no watcher wanted prev_kv comes without its previous value
     * (see {@link RevisionListener#onRevision}); the first watcher that wants it here has it read
     * from the store at the revision before the put, as etcd's watch server does for every
     * prev_kv. Once a compaction has passed that revision the value is gone and the event goes
     * without it, as in etcd.
     */
    private static final class EventProtos {
        private final List<Event> events;
        private final KvStore store;
        private final io.raftkv.server.api.mvcc.Event[] withPrev;
        private final io.raftkv.server.api.mvcc.Event[] withoutPrev;

        EventProtos(List<Event> events, KvStore store) {
            this.events = events;
            this.store = store;
            this.withPrev = new io.raftkv.server.api.mvcc.Event[events.size()];
            this.withoutPrev = new io.raftkv.server.api.mvcc.Event[events.size()];
        }

        io.raftkv.server.api.mvcc.Event get(int i, boolean prevKv) {
            if (withoutPrev[i] == null) {
                io.raftkv.server.api.mvcc.Event proto = EtcdCodec.toProto(events.get(i));
                withoutPrev[i] = proto.hasPrevKv() ? proto.toBuilder().clearPrevKv().build() : proto;
                if (proto.hasPrevKv() || !prevOmitted(events.get(i))) {
                    withPrev[i] = proto;
                }
            }
            if (!prevKv) {
                return withoutPrev[i];
            }
            if (withPrev[i] == null) {
                withPrev[i] = EtcdCodec.toProto(withReadPrev(events.get(i)));
            }
            return withPrev[i];
        }

        /** A put of a key that had a version, without that version. */
        private static boolean prevOmitted(Event e) {
            return e.type() == Event.Type.PUT && e.kv().version() > 1 && e.prevKv().isEmpty();
        }

        private Event withReadPrev(Event e) {
            try {
                List<KeyValue> prev = store.range(RangeRequest.key(e.kv().key())
                        .atRevision(e.kv().modRevision() - 1)).kvs();
                return prev.isEmpty() ? e : new Event(e.type(), e.kv(), Optional.of(prev.get(0)));
            } catch (MvccException x) {
                if (x.code() != MvccException.Code.COMPACTED) {
                    throw x;
                }
                return e;
            }
        }

        Event event(int i) {
            return events.get(i);
        }
    }

    /** One watcher; fields are hub thread only. */
    private static final class Watcher {
        final long id;
        final Stream stream;
        final KeyRange range;
        final boolean noPut;
        final boolean noDelete;
        final boolean prevKv;
        final boolean progressNotify;
        final boolean fragment;
        long nextRevision;
        boolean synced;
        boolean sentSinceTick;

        Watcher(long id, Stream stream, KeyRange range, WatchCreateRequest req, long startRevision) {
            this.id = id;
            this.stream = stream;
            this.range = range;
            this.noPut = req.getFiltersList().contains(WatchCreateRequest.FilterType.NOPUT);
            this.noDelete = req.getFiltersList().contains(WatchCreateRequest.FilterType.NODELETE);
            this.prevKv = req.getPrevKv();
            this.progressNotify = req.getProgressNotify();
            this.fragment = req.getFragment();
            this.nextRevision = startRevision;
        }

        boolean wants(Event e) {
            return e.kv().modRevision() >= nextRevision
                    && !(noPut && e.type() == Event.Type.PUT)
                    && !(noDelete && e.type() == Event.Type.DELETE);
        }
    }

    /**
     * One client watch stream (etcd's serverWatchStream). Its methods may be called from any
     * thread; each enqueues a command for the hub thread and never blocks.
     */
    public final class Stream {
        private final Sink sink;
        // Hub thread only.
        private final Map<Long, Watcher> watchers = new HashMap<>();
        private final ArrayDeque<WatchResponse> pending = new ArrayDeque<>();
        private long pendingBytes;
        private long nextWatchId;
        private boolean progressRequested;
        private boolean closed;

        private Stream(Sink sink) {
            this.sink = sink;
            submit(() -> streams.add(this));
        }

        /** etcd's WatchCreateRequest; the reply has {@code created} set. */
        public void create(WatchCreateRequest req) {
            submit(() -> doCreate(req));
        }

        /** etcd's WatchCancelRequest; an unknown id is ignored, as etcd does. */
        public void cancel(long watchId) {
            submit(() -> doCancel(watchId));
        }

        /**
         * etcd's WatchProgressRequest: answered with watch id -1 and the current revision once every
         * watcher of the stream is synced (so no event at or below that revision is still owed).
         */
        public void requestProgress() {
            submit(() -> progressRequested = true);
        }

        /** The transport became ready for more responses. */
        public void ready() {
            submit(() -> { });
        }

        /** The client went away: every watcher of the stream is dropped. */
        public void close() {
            submit(this::doClose);
        }

        /**
         * The server ends the stream: every watcher is dropped, then {@code last} runs on the hub
         * thread, after which the hub sends nothing more on this stream (so {@code last} may end
         * the transport's stream without racing a send).
         */
        public void closeThen(Runnable last) {
            submit(() -> {
                doClose();
                last.run();
            });
        }

        private void submit(Runnable r) {
            commands.add(r);
            wake();
        }

        /** Bytes of responses queued in this stream. Hub thread only. */
        public long pendingBytes() {
            return pendingBytes;
        }

        /** Responses queued in this stream. Hub thread only. */
        public int pendingResponses() {
            return pending.size();
        }

        private void doCreate(WatchCreateRequest req) {
            if (closed) {
                return;
            }
            KeyRange range = KeyRange.of(req);
            KvStore s = store.get();
            long current = Math.max(s.currentRevision(), hubRevision);
            WatchResponse.Builder reply = WatchResponse.newBuilder().setHeader(header.apply(current)).setCreated(true);
            long id = req.getWatchId();
            String error = null;
            if (range.empty()) {
                error = EMPTY_RANGE;
            } else if (id != 0 && watchers.containsKey(id)) {
                error = DUPLICATE_ID;
            }
            if (error != null) {
                enqueue(reply.setWatchId(-1).setCanceled(true).setCancelReason(error).build());
                return;
            }
            if (id == 0) {
                while (watchers.containsKey(nextWatchId)) {
                    nextWatchId++;
                }
                id = nextWatchId++;
            }
            long start = req.getStartRevision() > 0 ? req.getStartRevision() : current + 1;
            Watcher w = new Watcher(id, this, range, req, start);
            watchers.put(id, w);
            if (w.prevKv) {
                prevKvWatchers++; // the hub thread is the only writer
            }
            enqueue(reply.setWatchId(id).build());
            if (start < s.compactRevision()) {
                // etcd: a watcher whose start revision is compacted is canceled at once, even when
                // the revisions it asks for are still in the hub's memory.
                cancelCompacted(w, s.compactRevision());
            } else if (start > hubRevision) {
                moveToSynced(w);
            } else {
                unsynced.add(w);
            }
        }

        private void doCancel(long watchId) {
            Watcher w = watchers.get(watchId);
            if (w == null || closed) {
                return;
            }
            remove(w);
            enqueue(WatchResponse.newBuilder().setHeader(header.apply(Math.max(store.get().currentRevision(), hubRevision)))
                    .setWatchId(watchId).setCanceled(true).build());
        }

        private void remove(Watcher w) {
            if (watchers.remove(w.id) == w && w.prevKv) {
                prevKvWatchers--; // the hub thread is the only writer
            }
            forget(w);
        }

        private void doClose() {
            closed = true;
            for (Watcher w : List.copyOf(watchers.values())) {
                remove(w);
            }
            pending.clear();
            pendingBytes = 0;
            streams.remove(this);
        }

        boolean hasRoom() {
            return pendingBytes * 2 < options.streamBufferBytes();
        }

        /**
         * Offers watcher {@code w} the events at {@code matching} (already within its range); builds
         * its response (fragments when asked) and queues it if it fits. False when it does not fit,
         * in which case nothing is queued. {@code force} accepts an oversized batch into an empty
         * queue, so that a single large revision still makes progress.
         */
        boolean offer(Watcher w, EventProtos protos, List<Integer> matching, long revision, boolean force) {
            WatchResponse.Builder b = WatchResponse.newBuilder().setWatchId(w.id);
            for (int i : matching) {
                if (w.wants(protos.event(i))) {
                    b.addEvents(protos.get(i, w.prevKv));
                }
            }
            if (b.getEventsCount() == 0 || closed) {
                return true;
            }
            WatchResponse whole = b.setHeader(headerFor(revision)).build();
            long size = whole.getSerializedSize();
            boolean direct = pending.isEmpty() && sink.isReady();
            if (!direct && pendingBytes + size > options.streamBufferBytes() && !(force && pending.isEmpty())) {
                return false;
            }
            for (WatchResponse r : Fragments.responses(whole, w.fragment, options.maxRequestBytes())) {
                enqueue(r);
            }
            w.sentSinceTick = true;
            flush();
            return true;
        }

        /** Queues a response; only responses with events count against the buffer bound. */
        private void enqueue(WatchResponse r) {
            if (closed) {
                return;
            }
            pending.add(r);
            if (r.getEventsCount() > 0) {
                pendingBytes += r.getSerializedSize();
            }
        }

        void flush() {
            while (!pending.isEmpty() && sink.isReady()) {
                WatchResponse r = pending.poll();
                if (r.getEventsCount() > 0) {
                    pendingBytes -= r.getSerializedSize();
                }
                sink.send(r);
            }
        }
    }
}
