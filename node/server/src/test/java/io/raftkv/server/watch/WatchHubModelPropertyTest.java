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
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The hub against a simple reference model: whatever the interleaving of writes, watcher creation,
 * hub rounds and streams that stop and start reading (with tiny buffers and a tiny hand-off queue,
 * so that watchers keep falling out of the synced group and revisions keep being dropped at the
 * hand-off), every watcher ends up with exactly the events the model's history says: those of its
 * range, from its start revision, after its filters, in revision order, each once.
 */
class WatchHubModelPropertyTest {

    private static final int KEYS = 6;
    private static final int STREAMS = 2;

    /** One step of a run. */
    sealed interface Action permits Put, Delete, Txn, Create, Drain, Ready {
    }

    record Put(int key) implements Action {
    }

    record Delete(int key) implements Action {
    }

    record Txn(int a, int b) implements Action {
    }

    /** Range kind: 0 one key, 1 [key, key+2), 2 prefix "k", 3 all keys. */
    record Create(int stream, int key, int rangeKind, int startBack, int filter, boolean prevKv) implements Action {
    }

    record Drain() implements Action {
    }

    record Ready(int stream, boolean ready) implements Action {
    }

    @Provide
    Arbitrary<List<Action>> runs() {
        Arbitrary<Integer> key = Arbitraries.integers().between(0, KEYS - 1);
        Arbitrary<Action> action = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(6, key.map(Put::new)),
                net.jqwik.api.Tuple.of(2, key.map(Delete::new)),
                net.jqwik.api.Tuple.of(1, net.jqwik.api.Combinators.combine(key, key).filter((a, b) -> !a.equals(b)).as(Txn::new)),
                net.jqwik.api.Tuple.of(2, net.jqwik.api.Combinators.combine(Arbitraries.integers().between(0, STREAMS - 1),
                        key, Arbitraries.integers().between(0, 3), Arbitraries.integers().between(0, 6),
                        Arbitraries.integers().between(0, 2), Arbitraries.of(true, false)).as(Create::new)),
                net.jqwik.api.Tuple.of(3, Arbitraries.just(new Drain())),
                net.jqwik.api.Tuple.of(2, net.jqwik.api.Combinators.combine(Arbitraries.integers().between(0, STREAMS - 1),
                        Arbitraries.of(true, false, false)).as(Ready::new)));
        return action.list().ofMinSize(1).ofMaxSize(150);
    }

    private record Version(String value, long modRevision) {
    }

    /** One event of the model's history. */
    private record ModelEvent(boolean put, int key, String value, long revision, Version prev) {
    }

    private record ModelWatcher(int stream, long id, int key, int rangeKind, long start, int filter, boolean prevKv) {
        boolean contains(int k) {
            return switch (rangeKind) {
                case 0 -> k == key;
                case 1 -> k >= key && k < key + 2;
                default -> true;
            };
        }

        boolean wants(ModelEvent e) {
            return e.revision() >= start && contains(e.key())
                    && !(filter == 1 && e.put()) && !(filter == 2 && !e.put());
        }
    }

    @Property(tries = 60)
    void everyWatcherGetsExactlyTheModelsEventsInOrder(@ForAll("runs") List<Action> run) throws IOException {
        Path dir = Files.createTempDirectory("watch-model-");
        KvStore store = RocksDbKvStore.open(dir.resolve("kv"), MvccOptions.defaults());
        try {
            WatchHub hub = new WatchHub(() -> store, rev -> ResponseHeader.newBuilder().setRevision(rev).build(),
                    new WatchHub.Options(160, 3, 2, 1_572_864, 600_000));
            store.addRevisionListener(hub.listener());
            List<WatchHubTest.RecordingSink> sinks = new ArrayList<>();
            List<WatchHub.Stream> streams = new ArrayList<>();
            for (int i = 0; i < STREAMS; i++) {
                WatchHubTest.RecordingSink sink = new WatchHubTest.RecordingSink();
                sinks.add(sink);
                streams.add(hub.open(sink));
            }
            long[] nextId = new long[STREAMS];
            Map<Integer, Version> live = new HashMap<>();
            List<ModelEvent> history = new ArrayList<>();
            List<ModelWatcher> watchers = new ArrayList<>();
            long index = 0;
            for (Action a : run) {
                long rev = store.currentRevision() + 1;
                if (a instanceof Put p) {
                        store.put(++index, PutRequest.of(key(p.key()), Bytes.of("v" + rev)));
                        history.add(new ModelEvent(true, p.key(), "v" + rev, rev, live.get(p.key())));
                        live.put(p.key(), new Version("v" + rev, rev));
                } else if (a instanceof Delete d) {
                        store.deleteRange(++index, DeleteRangeRequest.key(key(d.key())));
                        Version prev = live.remove(d.key());
                        if (prev != null) {
                            history.add(new ModelEvent(false, d.key(), "", rev, prev));
                        }
                } else if (a instanceof Txn t) {
                        store.txn(++index, new TxnRequest(List.of(), List.<RequestOp>of(
                                PutRequest.of(key(t.a()), Bytes.of("t" + rev)), PutRequest.of(key(t.b()), Bytes.of("t" + rev))),
                                List.of()));
                        for (int k : new int[] {t.a(), t.b()}) {
                            history.add(new ModelEvent(true, k, "t" + rev, rev, live.get(k)));
                            live.put(k, new Version("t" + rev, rev));
                        }
                } else if (a instanceof Create c) {
                        long start = Math.max(1, rev - c.startBack());
                        WatchCreateRequest.Builder b = WatchCreateRequest.newBuilder().setKey(proto(key(c.key())))
                                .setStartRevision(start).setPrevKv(c.prevKv());
                        switch (c.rangeKind()) {
                            case 1 -> b.setRangeEnd(proto(key(c.key() + 2)));
                            case 2 -> b.setKey(ByteString.copyFromUtf8("k")).setRangeEnd(ByteString.copyFromUtf8("l"));
                            case 3 -> b.setKey(ByteString.copyFrom(new byte[] {0})).setRangeEnd(ByteString.copyFrom(new byte[] {0}));
                            default -> { }
                        }
                        if (c.filter() == 1) {
                            b.addFilters(WatchCreateRequest.FilterType.NOPUT);
                        } else if (c.filter() == 2) {
                            b.addFilters(WatchCreateRequest.FilterType.NODELETE);
                        }
                        streams.get(c.stream()).create(b.build());
                        watchers.add(new ModelWatcher(c.stream(), nextId[c.stream()]++, c.key(), c.rangeKind(), start,
                                c.filter(), c.prevKv()));
                } else if (a instanceof Drain) {
                    hub.drain();
                } else if (a instanceof Ready r) {
                        sinks.get(r.stream()).ready = r.ready();
                        streams.get(r.stream()).ready();
                }
            }
            for (int i = 0; i < STREAMS; i++) {
                sinks.get(i).ready = true;
                streams.get(i).ready();
            }
            hub.drain();
            for (ModelWatcher w : watchers) {
                List<String> want = history.stream().filter(w::wants).map(e -> render(e, w.prevKv())).toList();
                List<String> got = sinks.get(w.stream()).events(w.id()).stream().map(e -> render(e, w.prevKv())).toList();
                assertThat(got).as("watcher %s", w).isEqualTo(want);
            }
            assertThat(hub.unsyncedCount()).isZero();
        } finally {
            store.close();
            try (Stream<Path> walk = Files.walk(dir)) {
                for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private static Bytes key(int k) {
        return Bytes.of("k" + k);
    }

    private static ByteString proto(Bytes b) {
        return ByteString.copyFrom(b.toByteArray());
    }

    private static String render(ModelEvent e, boolean prevKv) {
        return (e.put() ? "PUT" : "DELETE") + " k" + e.key() + "=" + e.value() + "@" + e.revision()
                + (prevKv && e.prev() != null ? " prev=" + e.prev().value() + "@" + e.prev().modRevision() : "");
    }

    private static String render(Event e, boolean prevKv) {
        return e.getType() + " " + e.getKv().getKey().toStringUtf8() + "=" + e.getKv().getValue().toStringUtf8()
                + "@" + e.getKv().getModRevision()
                + (prevKv && e.hasPrevKv() ? " prev=" + e.getPrevKv().getValue().toStringUtf8() + "@"
                        + e.getPrevKv().getModRevision() : "");
    }
}
