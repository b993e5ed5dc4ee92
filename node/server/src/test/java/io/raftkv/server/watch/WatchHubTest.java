package io.raftkv.server.watch;

import com.google.protobuf.ByteString;
import io.raftkv.mvcc.Bytes;
import io.raftkv.mvcc.DeleteRangeRequest;
import io.raftkv.mvcc.KvStore;
import io.raftkv.mvcc.MvccOptions;
import io.raftkv.mvcc.PutRequest;
import io.raftkv.mvcc.RequestOp;
import io.raftkv.mvcc.RocksDbKvStore;
import io.raftkv.mvcc.TxnRequest;
import io.raftkv.server.api.etcd.ResponseHeader;
import io.raftkv.server.api.etcd.WatchCreateRequest;
import io.raftkv.server.api.etcd.WatchResponse;
import io.raftkv.server.api.mvcc.Event;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The watch hub against a real RocksDB store, driven step by step from the test thread (no hub
 * thread, no sleeps): {@link WatchHub#drain()} does all pending work, a recording sink plays the
 * gRPC stream and can refuse to be ready like a client that stops reading.
 */
class WatchHubTest {

    @TempDir
    Path dir;

    private final AtomicReference<KvStore> store = new AtomicReference<>();
    private long raftIndex;
    private WatchHub hub;

    @BeforeEach
    void open() {
        store.set(RocksDbKvStore.open(dir.resolve("kv"), MvccOptions.defaults()));
    }

    @AfterEach
    void close() {
        store.get().close();
    }

    private WatchHub hub(WatchHub.Options options) {
        hub = new WatchHub(store::get, rev -> ResponseHeader.newBuilder().setRevision(rev).build(), options);
        store.get().addRevisionListener(hub.listener());
        return hub;
    }

    private WatchHub hub() {
        return hub(WatchHub.Options.defaults());
    }

    // ------------------------------------------------------------------ helpers

    /** A sink that records what it is sent and is ready only while the test says so. */
    static final class RecordingSink implements WatchHub.Sink {
        final List<WatchResponse> sent = new ArrayList<>();
        boolean ready = true;

        @Override
        public boolean isReady() {
            return ready;
        }

        @Override
        public void send(WatchResponse response) {
            sent.add(response);
        }

        List<Event> events(long watchId) {
            List<Event> out = new ArrayList<>();
            for (WatchResponse r : sent) {
                if (r.getWatchId() == watchId) {
                    out.addAll(r.getEventsList());
                }
            }
            return out;
        }

        List<WatchResponse> of(long watchId) {
            return sent.stream().filter(r -> r.getWatchId() == watchId).toList();
        }
    }

    private long put(String key, String value) {
        return store.get().put(++raftIndex, PutRequest.of(Bytes.of(key), Bytes.of(value))).revision();
    }

    private long delete(String key) {
        return store.get().deleteRange(++raftIndex, DeleteRangeRequest.key(Bytes.of(key))).revision();
    }

    private static WatchCreateRequest.Builder watch(String key) {
        return WatchCreateRequest.newBuilder().setKey(bs(key));
    }

    private static WatchCreateRequest.Builder prefix(String key) {
        return watch(key).setRangeEnd(io.raftkv.server.api.EtcdCodec.toProto(Bytes.of(key).prefixEnd()));
    }

    private static ByteString bs(String s) {
        return ByteString.copyFrom(s, StandardCharsets.UTF_8);
    }

    private static List<String> keysAndRevisions(List<Event> events) {
        return events.stream().map(e -> e.getType() + " " + e.getKv().getKey().toStringUtf8() + "@"
                + e.getKv().getModRevision()).toList();
    }

    private static List<Long> revisions(List<Event> events) {
        return events.stream().map(e -> e.getKv().getModRevision()).toList();
    }

    // ------------------------------------------------------------------ tests

    @Test
    void aHubWithoutWatchersQueuesNothingAndLaterWatchersMissNothing() {
        WatchHub h = hub();
        h.drain(); // no watcher: the hub is idle from here on
        long r1 = put("a", "1");
        long r2 = put("a", "2");
        assertThat(h.queuedRevisions()).as("revisions handed over to an idle hub").isZero();
        RecordingSink now = new RecordingSink();
        RecordingSink past = new RecordingSink();
        h.open(now).create(watch("a").build());
        h.open(past).create(watch("a").setStartRevision(r1).build());
        h.drain();
        assertThat(now.sent.get(0).getHeader().getRevision()).isEqualTo(r2);
        assertThat(now.events(0)).isEmpty();
        assertThat(revisions(past.events(0))).containsExactly(r1, r2);
        long r3 = put("a", "3");
        assertThat(h.queuedRevisions()).as("a hub with watchers is handed every revision").isEqualTo(1);
        h.drain();
        assertThat(revisions(now.events(0))).containsExactly(r3);
        assertThat(revisions(past.events(0))).containsExactly(r1, r2, r3);
    }

    @Test
    void firstReplyIsCreatedWithCurrentRevisionThenEventsInRevisionOrder() {
        WatchHub h = hub();
        put("a", "0");
        RecordingSink sink = new RecordingSink();
        WatchHub.Stream s = h.open(sink);
        s.create(watch("a").build());
        h.drain();
        assertThat(sink.sent).hasSize(1);
        assertThat(sink.sent.get(0).getCreated()).isTrue();
        assertThat(sink.sent.get(0).getWatchId()).isEqualTo(0);
        assertThat(sink.sent.get(0).getHeader().getRevision()).isEqualTo(2);

        put("a", "1");
        put("b", "x");
        delete("a");
        put("a", "2");
        h.drain();
        assertThat(keysAndRevisions(sink.events(0))).containsExactly("PUT a@3", "DELETE a@5", "PUT a@6");
        assertThat(sink.sent.get(sink.sent.size() - 1).getHeader().getRevision()).isEqualTo(6);
    }

    @Test
    void singleKeyRangePrefixAndAllKeysWatchersSeeOnlyTheirKeys() {
        WatchHub h = hub();
        RecordingSink sink = new RecordingSink();
        WatchHub.Stream s = h.open(sink);
        s.create(watch("k/b").build());
        s.create(watch("k/b").setRangeEnd(bs("k/d")).build());
        s.create(prefix("k/").build());
        s.create(WatchCreateRequest.newBuilder().setKey(bs("\0")).setRangeEnd(bs("\0")).build());
        s.create(watch("k/c").setRangeEnd(bs("\0")).build());
        h.drain();
        for (String k : List.of("k/a", "k/b", "k/c", "k/d", "l", "a")) {
            put(k, "v");
        }
        h.drain();
        assertThat(keys(sink.events(0))).containsExactly("k/b");
        assertThat(keys(sink.events(1))).containsExactly("k/b", "k/c");
        assertThat(keys(sink.events(2))).containsExactly("k/a", "k/b", "k/c", "k/d");
        assertThat(keys(sink.events(3))).containsExactly("k/a", "k/b", "k/c", "k/d", "l", "a");
        assertThat(keys(sink.events(4))).containsExactly("k/c", "k/d", "l");
    }

    private static List<String> keys(List<Event> events) {
        return events.stream().map(e -> e.getKv().getKey().toStringUtf8()).toList();
    }

    @Test
    void eventsOfOneTxnArriveTogetherInOneResponse() {
        WatchHub h = hub();
        RecordingSink sink = new RecordingSink();
        h.open(sink).create(prefix("t/").build());
        h.drain();
        long rev = store.get().txn(++raftIndex, new TxnRequest(List.of(), List.<RequestOp>of(
                PutRequest.of(Bytes.of("t/1"), Bytes.of("a")), PutRequest.of(Bytes.of("t/2"), Bytes.of("b")),
                PutRequest.of(Bytes.of("t/3"), Bytes.of("c"))), List.of())).revision();
        h.drain();
        List<WatchResponse> withEvents = sink.of(0).stream().filter(r -> r.getEventsCount() > 0).toList();
        assertThat(withEvents).hasSize(1);
        assertThat(revisions(withEvents.get(0).getEventsList())).containsExactly(rev, rev, rev);
    }

    @Test
    void noPutAndNoDeleteFiltersDropThoseEvents() {
        WatchHub h = hub();
        RecordingSink sink = new RecordingSink();
        WatchHub.Stream s = h.open(sink);
        s.create(watch("f").addFilters(WatchCreateRequest.FilterType.NOPUT).build());
        s.create(watch("f").addFilters(WatchCreateRequest.FilterType.NODELETE).build());
        h.drain();
        put("f", "1");
        delete("f");
        put("f", "2");
        h.drain();
        assertThat(keysAndRevisions(sink.events(0))).containsExactly("DELETE f@3");
        assertThat(keysAndRevisions(sink.events(1))).containsExactly("PUT f@2", "PUT f@4");
    }

    @Test
    void prevKvIsSentOnlyToWatchersThatAskedForIt() {
        WatchHub h = hub();
        put("p", "old");
        RecordingSink sink = new RecordingSink();
        WatchHub.Stream s = h.open(sink);
        s.create(watch("p").setPrevKv(true).build());
        s.create(watch("p").build());
        h.drain();
        put("p", "new");
        delete("p");
        h.drain();
        List<Event> with = sink.events(0);
        assertThat(with).hasSize(2);
        assertThat(with.get(0).getPrevKv().getValue().toStringUtf8()).isEqualTo("old");
        assertThat(with.get(1).getPrevKv().getValue().toStringUtf8()).isEqualTo("new");
        assertThat(sink.events(1)).hasSize(2).noneMatch(Event::hasPrevKv);
    }

    @Test
    void theStoreReadsPreviousValuesOnlyWhileAWatcherWantsThem() {
        WatchHub h = hub();
        RecordingSink sink = new RecordingSink();
        WatchHub.Stream s = h.open(sink);
        s.create(watch("p").build());
        h.drain();
        assertThat(h.listener().wantsPrevValues()).isFalse();
        s.create(watch("q").setPrevKv(true).build());
        h.drain();
        assertThat(h.listener().wantsPrevValues()).isTrue();
        s.cancel(1);
        h.drain();
        assertThat(h.listener().wantsPrevValues()).isFalse();
    }

    /**
     * Watcher 0 of {@code s} watches p without prev_kv; then p=old and p=new are applied, the
     * second while no watcher wants prev_kv, so its event has none. Returns p=new's revision.
     */
    private long twoPutsWhileNoWatcherWantsPrevKv(WatchHub h, WatchHub.Stream s) {
        s.create(watch("p").build());
        h.drain();
        put("p", "old");
        return put("p", "new");
    }

    @Test
    void aPutAppliedBeforeAPrevKvWatcherCameGetsItsPrevKvFromTheStore() {
        WatchHub h = hub();
        RecordingSink sink = new RecordingSink();
        WatchHub.Stream s = h.open(sink);
        long rev = twoPutsWhileNoWatcherWantsPrevKv(h, s);
        s.create(watch("p").setPrevKv(true).setStartRevision(rev).build());
        h.drain();
        List<Event> with = sink.events(1);
        assertThat(keysAndRevisions(with)).containsExactly("PUT p@" + rev);
        assertThat(with.get(0).getPrevKv().getValue().toStringUtf8()).isEqualTo("old");
        assertThat(with.get(0).getPrevKv().getModRevision()).isEqualTo(rev - 1);
        assertThat(sink.events(0)).hasSize(2).noneMatch(Event::hasPrevKv);
    }

    @Test
    void aPrevKvThatACompactionRemovedIsLeftOutAsInEtcd() {
        WatchHub h = hub();
        RecordingSink sink = new RecordingSink();
        WatchHub.Stream s = h.open(sink);
        long rev = twoPutsWhileNoWatcherWantsPrevKv(h, s);
        store.get().compact(++raftIndex, rev);
        s.create(watch("p").setPrevKv(true).setStartRevision(rev).build());
        h.drain();
        List<Event> with = sink.events(1);
        assertThat(keysAndRevisions(with)).containsExactly("PUT p@" + rev);
        assertThat(with.get(0).hasPrevKv()).isFalse();
    }

    @Test
    void pastStartRevisionReplaysHistoryThenGoesLiveWithoutGapOrDuplicate() {
        WatchHub h = hub(new WatchHub.Options(1 << 20, 10_000, 7, 1_572_864, 600_000));
        for (int i = 0; i < 50; i++) {
            put("h", "v" + i);
        }
        RecordingSink sink = new RecordingSink();
        WatchHub.Stream s = h.open(sink);
        s.create(watch("h").setStartRevision(10).build());
        put("h", "during");
        h.drain();
        assertThat(h.unsyncedCount()).isZero();
        put("h", "after");
        h.drain();
        List<Long> expected = new ArrayList<>();
        for (long r = 10; r <= store.get().currentRevision(); r++) {
            expected.add(r);
        }
        assertThat(revisions(sink.events(0))).isEqualTo(expected);
    }

    @Test
    void startRevisionBelowCompactionIsCanceledWithCompactRevisionAndEtcdsReason() {
        WatchHub h = hub();
        for (int i = 0; i < 10; i++) {
            put("c", "v" + i);
        }
        store.get().compact(++raftIndex, 6);
        RecordingSink sink = new RecordingSink();
        WatchHub.Stream s = h.open(sink);
        s.create(watch("c").setStartRevision(3).build());
        s.create(watch("c").setStartRevision(6).build());
        h.drain();
        List<WatchResponse> first = sink.of(0);
        assertThat(first).as(first.toString()).hasSize(2);
        assertThat(first.get(0).getCreated()).isTrue();
        assertThat(first.get(1).getCanceled()).isTrue();
        assertThat(first.get(1).getCompactRevision()).isEqualTo(6);
        assertThat(first.get(1).getCancelReason()).isEqualTo("etcdserver: mvcc: required revision has been compacted");
        assertThat(revisions(sink.events(1))).containsExactly(6L, 7L, 8L, 9L, 10L, 11L);
        put("c", "later");
        h.drain();
        assertThat(sink.of(0)).hasSize(2);
    }

    @Test
    void watchIdsChosenByServerStartAtZeroAndSkipIdsTheClientTook() {
        WatchHub h = hub();
        RecordingSink sink = new RecordingSink();
        WatchHub.Stream s = h.open(sink);
        s.create(watch("a").setWatchId(1).build());
        s.create(watch("a").build());
        s.create(watch("a").build());
        h.drain();
        assertThat(sink.sent).extracting(WatchResponse::getWatchId).containsExactly(1L, 0L, 2L);
        assertThat(sink.sent).allMatch(r -> r.getCreated() && !r.getCanceled());
    }

    @Test
    void duplicateWatchIdAndEmptyRangeAreRefusedWithEtcdsReasons() {
        WatchHub h = hub();
        RecordingSink sink = new RecordingSink();
        WatchHub.Stream s = h.open(sink);
        s.create(watch("a").setWatchId(7).build());
        s.create(watch("b").setWatchId(7).build());
        s.create(watch("z").setRangeEnd(bs("a")).build());
        h.drain();
        assertThat(sink.sent).hasSize(3);
        assertThat(sink.sent.get(1).getCreated()).isTrue();
        assertThat(sink.sent.get(1).getCanceled()).isTrue();
        assertThat(sink.sent.get(1).getWatchId()).isEqualTo(-1);
        assertThat(sink.sent.get(1).getCancelReason()).isEqualTo("mvcc: duplicate watch ID provided on the WatchStream");
        assertThat(sink.sent.get(2).getCancelReason()).isEqualTo("mvcc: watcher range is empty");
        put("b", "1");
        h.drain();
        assertThat(sink.events(7)).isEmpty();
    }

    @Test
    void canceledWatcherGetsCanceledReplyAndNoMoreEventsAndUnknownIdIsIgnored() {
        WatchHub h = hub();
        RecordingSink sink = new RecordingSink();
        WatchHub.Stream s = h.open(sink);
        s.create(watch("a").build());
        h.drain();
        put("a", "1");
        h.drain();
        s.cancel(0);
        s.cancel(42);
        h.drain();
        put("a", "2");
        h.drain();
        List<WatchResponse> replies = sink.of(0);
        assertThat(replies).hasSize(3);
        assertThat(replies.get(1).getEventsCount()).isEqualTo(1);
        assertThat(replies.get(2).getCanceled()).isTrue();
        assertThat(sink.sent).hasSize(3);
    }

    @Test
    void progressRequestIsAnsweredOnlyOnceEveryWatcherOfTheStreamCaughtUp() {
        WatchHub h = hub(new WatchHub.Options(512, 10_000, 1000, 1_572_864, 600_000));
        RecordingSink sink = new RecordingSink();
        WatchHub.Stream s = h.open(sink);
        s.create(prefix("p/").build());
        h.drain();
        sink.ready = false;
        for (int i = 0; i < 40; i++) {
            put("p/" + i, "0123456789012345678901234567890123456789");
            h.drain();
        }
        assertThat(h.unsyncedCount()).isEqualTo(1);
        s.requestProgress();
        h.drain();
        int before = sink.sent.size();
        sink.ready = true;
        s.ready();
        h.drain();
        List<WatchResponse> after = sink.sent.subList(before, sink.sent.size());
        WatchResponse progress = after.get(after.size() - 1);
        assertThat(progress.getWatchId()).isEqualTo(-1);
        assertThat(progress.getEventsCount()).isZero();
        assertThat(progress.getHeader().getRevision()).isEqualTo(store.get().currentRevision());
        assertThat(after.subList(0, after.size() - 1)).noneMatch(r -> r.getWatchId() == -1);
        assertThat(sink.events(0)).hasSize(40);
    }

    @Test
    void progressNotifyGoesOnlyToSyncedWatchersThatAskedAndHadNoEventSinceTheLastTick() {
        WatchHub h = hub();
        RecordingSink sink = new RecordingSink();
        WatchHub.Stream s = h.open(sink);
        s.create(watch("a").setProgressNotify(true).build());
        s.create(watch("b").setProgressNotify(true).build());
        s.create(watch("c").build());
        h.drain();
        put("a", "1");
        h.drain();
        int before = sink.sent.size();
        h.progressTick();
        List<WatchResponse> ticks = sink.sent.subList(before, sink.sent.size());
        assertThat(ticks).extracting(WatchResponse::getWatchId).containsExactly(1L);
        assertThat(ticks.get(0).getHeader().getRevision()).isEqualTo(2);
        before = sink.sent.size();
        h.progressTick();
        assertThat(sink.sent.subList(before, sink.sent.size())).extracting(WatchResponse::getWatchId)
                .containsExactlyInAnyOrder(0L, 1L);
    }

    @Test
    void slowWatcherIsBoundedThenCatchesUpFromStoreWhileOthersKeepUp() {
        long bound = 4096;
        WatchHub h = hub(new WatchHub.Options(bound, 10_000, 50, 1_572_864, 600_000));
        RecordingSink slow = new RecordingSink();
        RecordingSink fast = new RecordingSink();
        WatchHub.Stream slowStream = h.open(slow);
        slowStream.create(prefix("s/").setPrevKv(true).build());
        h.open(fast).create(prefix("s/").build());
        h.drain();
        slow.ready = false;
        long maxPending = 0;
        for (int i = 0; i < 2000; i++) {
            long rev = put("s/" + (i % 17), "value-" + i);
            h.drain();
            maxPending = Math.max(maxPending, slowStream.pendingBytes());
            List<Event> got = fast.events(0);
            assertThat(got.get(got.size() - 1).getKv().getModRevision()).isEqualTo(rev);
        }
        assertThat(maxPending).isLessThanOrEqualTo(bound);
        assertThat(h.unsyncedCount()).isEqualTo(1);
        assertThat(slow.sent.size()).isLessThan(10);

        slow.ready = true;
        slowStream.ready();
        h.drain();
        assertThat(h.unsyncedCount()).isZero();
        List<Long> expected = new ArrayList<>();
        for (long r = 2; r <= store.get().currentRevision(); r++) {
            expected.add(r);
        }
        assertThat(revisions(slow.events(0))).isEqualTo(expected);
        assertThat(slow.events(0)).allMatch(e -> e.getPrevKv().getModRevision() < e.getKv().getModRevision()
                || e.getKv().getVersion() == 1);
        assertThat(revisions(fast.events(0))).isEqualTo(expected);
    }

    @Test
    void thousandsOfWatchersOnAStreamThatNeverReadsKeepItsBufferBounded() {
        long bound = 64 << 10;
        WatchHub h = hub(new WatchHub.Options(bound, 10_000, 1000, 1_572_864, 600_000));
        RecordingSink stuck = new RecordingSink();
        WatchHub.Stream s = h.open(stuck);
        for (int i = 0; i < 3000; i++) {
            s.create(prefix("m/").build());
        }
        RecordingSink reader = new RecordingSink();
        h.open(reader).create(prefix("m/").build());
        h.drain();
        stuck.ready = false;
        for (int i = 0; i < 500; i++) {
            put("m/" + i, "x".repeat(100));
            h.drain();
            assertThat(s.pendingBytes()).isLessThanOrEqualTo(bound);
        }
        assertThat(h.unsyncedCount()).isEqualTo(3000);
        assertThat(h.slowWatchers()).isEqualTo(3000);
        assertThat(h.watchers()).isEqualTo(3001);
        assertThat(reader.events(0)).hasSize(500);
        assertThat(h.queuedRevisions()).isZero();
    }

    @Test
    void revisionsDroppedAtAFullHandOffQueueAreReadBackFromTheStore() {
        WatchHub h = hub(new WatchHub.Options(1 << 20, 10, 1000, 1_572_864, 600_000));
        RecordingSink sink = new RecordingSink();
        h.open(sink).create(prefix("q/").build());
        h.drain();
        for (int i = 0; i < 100; i++) {
            put("q/" + i, "v");
            assertThat(h.queuedRevisions()).isLessThanOrEqualTo(10);
        }
        h.drain();
        List<Long> expected = new ArrayList<>();
        for (long r = 2; r <= 101; r++) {
            expected.add(r);
        }
        assertThat(revisions(sink.events(0))).isEqualTo(expected);
        put("q/x", "v");
        h.drain();
        assertThat(revisions(sink.events(0))).endsWith(102L).hasSize(101);
    }

    @Test
    void largeResponseIsFragmentedOnlyForWatchersThatAskedAndEveryPieceStaysBelowTheLimit() {
        int limit = 300;
        WatchHub h = hub(WatchHub.Options.defaults().withMaxRequestBytes(limit));
        RecordingSink sink = new RecordingSink();
        WatchHub.Stream s = h.open(sink);
        s.create(prefix("big/").setFragment(true).build());
        s.create(prefix("big/").build());
        h.drain();
        List<RequestOp> puts = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            puts.add(PutRequest.of(Bytes.of("big/" + i), Bytes.of("v".repeat(60))));
        }
        long rev = store.get().txn(++raftIndex, new TxnRequest(List.of(), puts, List.of())).revision();
        h.drain();
        List<WatchResponse> fragments = sink.of(0).stream().filter(r -> r.getEventsCount() > 0).toList();
        assertThat(fragments.size()).isGreaterThan(1);
        assertThat(fragments.subList(0, fragments.size() - 1)).allMatch(WatchResponse::getFragment);
        assertThat(fragments.get(fragments.size() - 1).getFragment()).isFalse();
        assertThat(fragments).allMatch(r -> r.getSerializedSize() < limit);
        assertThat(fragments.stream().mapToInt(WatchResponse::getEventsCount).sum()).isEqualTo(10);
        assertThat(fragments.stream().flatMap(r -> r.getEventsList().stream()))
                .allMatch(e -> e.getKv().getModRevision() == rev);
        List<WatchResponse> whole = sink.of(1).stream().filter(r -> r.getEventsCount() > 0).toList();
        assertThat(whole).hasSize(1);
        assertThat(whole.get(0).getFragment()).isFalse();
    }

    @Test
    void largeCatchUpBatchIsCutAtRevisionBoundariesIntoResponsesBelowTheLimit() {
        int limit = 1000;
        WatchHub h = hub(WatchHub.Options.defaults().withMaxRequestBytes(limit));
        for (int i = 0; i < 20; i++) {
            put("cut/" + i, "v".repeat(200));
        }
        long big = store.get().txn(++raftIndex, new TxnRequest(List.of(), List.<RequestOp>of(
                PutRequest.of(Bytes.of("cut/a"), Bytes.of("w".repeat(600))),
                PutRequest.of(Bytes.of("cut/b"), Bytes.of("w".repeat(600)))), List.of())).revision();
        RecordingSink sink = new RecordingSink();
        h.open(sink).create(prefix("cut/").setStartRevision(1).build());
        h.drain();
        List<WatchResponse> withEvents = sink.of(0).stream().filter(r -> r.getEventsCount() > 0).toList();
        assertThat(withEvents.size()).isGreaterThan(1);
        assertThat(withEvents).noneMatch(WatchResponse::getFragment);
        for (WatchResponse r : withEvents) {
            boolean oneRevision = r.getEventsList().stream().mapToLong(e -> e.getKv().getModRevision()).distinct().count() == 1;
            assertThat(r.getSerializedSize() < limit || oneRevision).as("%d bytes", r.getSerializedSize()).isTrue();
        }
        List<Long> expected = new ArrayList<>();
        for (long r = 2; r < big; r++) {
            expected.add(r);
        }
        expected.add(big);
        expected.add(big);
        assertThat(revisions(sink.events(0))).isEqualTo(expected);
        WatchResponse last = withEvents.get(withEvents.size() - 1);
        assertThat(revisions(last.getEventsList())).containsExactly(big, big);
    }

    @Test
    void watchersSurviveAStoreReplacedBySnapshotAndResumeFromItsHistory() throws Exception {
        WatchHub h = hub();
        RecordingSink sink = new RecordingSink();
        h.open(sink).create(prefix("r/").build());
        h.drain();
        put("r/1", "a");
        h.drain();
        // A leader's store that went further; this member installs its snapshot.
        for (int i = 2; i <= 5; i++) {
            put("r/" + i, "b");
        }
        ByteArrayOutputStream snap = new ByteArrayOutputStream();
        store.get().snapshot(snap);
        KvStore restored = RocksDbKvStore.restore(new ByteArrayInputStream(snap.toByteArray()), dir.resolve("kv2"),
                MvccOptions.defaults());
        restored.addRevisionListener(hub.listener());
        KvStore old = store.getAndSet(restored);
        old.close();
        hub.storeReplaced();
        h.drain();
        put("r/6", "c");
        h.drain();
        assertThat(revisions(sink.events(0))).containsExactly(2L, 3L, 4L, 5L, 6L, 7L);
    }

    @Test
    void watcherBehindTheCompactionOfAnInstalledStoreIsCanceledAsCompacted() throws Exception {
        WatchHub h = hub(new WatchHub.Options(1 << 20, 2, 1000, 1_572_864, 600_000));
        RecordingSink sink = new RecordingSink();
        h.open(sink).create(prefix("r/").build());
        h.drain();
        for (int i = 0; i < 10; i++) {
            put("r/" + i, "b");
        }
        store.get().compact(++raftIndex, 8);
        ByteArrayOutputStream snap = new ByteArrayOutputStream();
        store.get().snapshot(snap);
        KvStore restored = RocksDbKvStore.restore(new ByteArrayInputStream(snap.toByteArray()), dir.resolve("kv2"),
                MvccOptions.defaults());
        restored.addRevisionListener(hub.listener());
        store.getAndSet(restored).close();
        // The queued revisions of the old store are dropped with it: only 2 of 10 were queued.
        hub.storeReplaced();
        h.drain();
        List<WatchResponse> replies = sink.of(0);
        WatchResponse last = replies.get(replies.size() - 1);
        assertThat(last.getCanceled()).isTrue();
        assertThat(last.getCompactRevision()).isEqualTo(8);
        assertThat(revisions(sink.events(0))).containsExactly(2L, 3L);
    }

    @Test
    void closedStreamLosesItsWatchersAndIsSentNothingMore() {
        WatchHub h = hub();
        RecordingSink sink = new RecordingSink();
        WatchHub.Stream s = h.open(sink);
        s.create(watch("a").build());
        h.drain();
        s.close();
        put("a", "1");
        h.drain();
        assertThat(sink.sent).hasSize(1);
        assertThat(h.syncedCount() + h.unsyncedCount()).isZero();
    }
}
