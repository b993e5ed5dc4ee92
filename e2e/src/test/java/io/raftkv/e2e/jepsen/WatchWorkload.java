package io.raftkv.e2e.jepsen;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Watchers on one prefix, one through each initial member, all from the same start revision, while
 * writers put and delete keys under it. At the end (after a fence write every watcher must reach):
 * every watcher saw the same event sequence, in strictly increasing revision order; it contains every
 * acknowledged write at the revision the write's response named (no gaps); and replaying it from an
 * empty prefix gives the final state a linearizable range read returns. etcd: "watch events are
 * ordered, reliable (no gaps) and atomic" (API guarantees). Watchers of members removed during the
 * run are left out and named in the report.
 */
final class WatchWorkload implements Workload {
    private final int writers;
    private final long timeoutMs;
    private final ClientThreads threads = new ClientThreads();
    private final String prefix = "jw/" + Long.toHexString(System.nanoTime()) + "/";
    private final ConcurrentLinkedQueue<Event> acknowledged = new ConcurrentLinkedQueue<>();
    private final Map<Integer, List<Event>> seen = new LinkedHashMap<>();
    private final Map<Integer, String> watchErrors = new java.util.concurrent.ConcurrentHashMap<>();
    private final List<Watch.Watcher> watchers = new ArrayList<>();
    private volatile String skipped;

    /**
     * One change of a key as a watcher (or a writer's acknowledgement) reports it.
     *
     * @param revision the revision of the change (mod_revision of the event)
     * @param key      the key
     * @param value    the value put, null for a delete
     */
    record Event(long revision, String key, String value) {
        @Override
        public String toString() {
            return "@" + revision + " " + (value == null ? "DELETE " + key : "PUT " + key + "=" + value);
        }
    }

    WatchWorkload(int writers, long timeoutMs) {
        this.writers = writers;
        this.timeoutMs = timeoutMs;
    }

    @Override
    public String name() {
        return "watch";
    }

    @Override
    public void start(JepsenCluster cluster, History history, long seed) {
        long startRevision;
        try {
            startRevision = ClientThreads.await(cluster.client(cluster.members().get(0)).getKVClient().get(bytes(prefix)),
                    10_000).getHeader().getRevision();
        } catch (ClientThreads.Failed f) {
            skipped = "could not read the start revision: " + f.getMessage();
            return;
        }
        for (int slot : cluster.members()) {
            List<Event> events = java.util.Collections.synchronizedList(new ArrayList<>());
            seen.put(slot, events);
            WatchOption option = WatchOption.builder().isPrefix(true).withRevision(startRevision + 1).build();
            watchers.add(cluster.client(slot).getWatchClient().watch(bytes(prefix), option, new Watch.Listener() {
                @Override
                public void onNext(WatchResponse response) {
                    for (WatchEvent e : response.getEvents()) {
                        events.add(new Event(e.getKeyValue().getModRevision(), string(e.getKeyValue().getKey()),
                                e.getEventType() == WatchEvent.EventType.DELETE ? null : string(e.getKeyValue().getValue())));
                    }
                }

                @Override
                public void onError(Throwable t) {
                    Unimplemented.message(t).ifPresent(m -> skipped = "the server does not serve Watch: " + m);
                    watchErrors.merge(slot, String.valueOf(t.getMessage()), (a, b) -> a);
                }

                @Override
                public void onCompleted() {
                    // the stream ended; check() reports a watcher that stopped short
                }
            }));
        }
        SplittableRandom[] rngs = new SplittableRandom[writers];
        for (int w = 0; w < writers; w++) {
            rngs[w] = new SplittableRandom(seed * 13 + w);
        }
        threads.start("watch-writer", writers, w -> write(cluster, history, rngs[w], w));
    }

    private void write(JepsenCluster cluster, History history, SplittableRandom rnd, int writer) {
        if (skipped != null) {
            ClientThreads.backOff(200);
            return;
        }
        List<Integer> members = cluster.members();
        int slot = members.get(rnd.nextInt(members.size()));
        String key = prefix + "k" + rnd.nextInt(8);
        boolean delete = rnd.nextInt(10) == 0;
        String value = "w" + writer + "." + rnd.nextInt(1_000_000);
        long call = history.now();
        try {
            long revision = delete
                    ? ClientThreads.await(cluster.client(slot).getKVClient().delete(bytes(key)), timeoutMs).getHeader().getRevision()
                    : ClientThreads.await(cluster.client(slot).getKVClient().put(bytes(key), bytes(value)), timeoutMs)
                            .getHeader().getRevision();
            history.sample(call, history.now(), "watch " + (delete ? "DELETE" : "PUT"), History.Outcome.OK);
            if (!delete) {
                acknowledged.add(new Event(revision, key, value));
            }
        } catch (ClientThreads.Failed f) {
            history.sample(call, history.now(), "watch " + (delete ? "DELETE" : "PUT"), f.outcome());
            ClientThreads.backOff(50);
        }
    }

    @Override
    public void stop() throws InterruptedException {
        threads.stop();
    }

    @Override
    public Result check(JepsenCluster cluster, Duration budget) throws Exception {
        try {
            return checkSeen(cluster, budget);
        } finally {
            watchers.forEach(Watch.Watcher::close);
        }
    }

    private Result checkSeen(JepsenCluster cluster, Duration budget) throws Exception {
        if (skipped != null) {
            return new Result(name(), Verdict.SKIPPED, skipped, List.of());
        }
        int via = cluster.members().get(0);
        long fence = ClientThreads.await(cluster.client(via).getKVClient().put(bytes(prefix + "fence"), bytes("end")), 10_000)
                .getHeader().getRevision();
        GetResponse finalRead = ClientThreads.await(cluster.client(via).getKVClient().get(bytes(prefix),
                GetOption.builder().isPrefix(true).build()), 10_000);
        Map<String, String> finalState = new HashMap<>();
        finalRead.getKvs().forEach(kv -> finalState.put(string(kv.getKey()), string(kv.getValue())));
        List<Integer> checked = new ArrayList<>();
        List<String> details = new ArrayList<>();
        for (int slot : seen.keySet()) {
            if (cluster.members().contains(slot)) {
                checked.add(slot);
            } else {
                details.add("watcher through " + cluster.name(slot) + " not checked: the member was removed");
            }
        }
        long deadline = System.nanoTime() + budget.toNanos();
        while (System.nanoTime() < deadline && !checked.stream().allMatch(s -> lastRevision(s) >= fence)) {
            Thread.sleep(200);
        }
        List<String> problems = new ArrayList<>();
        List<Event> reference = null;
        for (int slot : checked) {
            List<Event> events;
            synchronized (seen.get(slot)) {
                events = List.copyOf(seen.get(slot));
            }
            if (lastRevision(slot) < fence) {
                problems.add("watcher through " + cluster.name(slot) + " stopped at revision " + lastRevision(slot)
                        + " < fence " + fence + (watchErrors.containsKey(slot) ? " (error: " + watchErrors.get(slot) + ")" : ""));
                continue;
            }
            for (int i = 1; i < events.size(); i++) {
                if (events.get(i).revision() <= events.get(i - 1).revision()) {
                    problems.add("watcher through " + cluster.name(slot) + " out of order: " + events.get(i - 1)
                            + " then " + events.get(i));
                    break;
                }
            }
            if (reference == null) {
                reference = events;
            } else if (!reference.equals(events)) {
                problems.add("watcher through " + cluster.name(slot) + " differs from " + cluster.name(checked.get(0))
                        + " at event " + firstDifference(reference, events));
            }
        }
        if (reference != null) {
            Map<Long, Event> byRevision = new HashMap<>();
            reference.forEach(e -> byRevision.put(e.revision(), e));
            for (Event ack : acknowledged) {
                if (!ack.equals(byRevision.get(ack.revision()))) {
                    problems.add("acknowledged " + ack + " missing from the watch stream (gap); stream has "
                            + byRevision.get(ack.revision()));
                }
            }
            Map<String, String> replayed = new HashMap<>();
            reference.forEach(e -> {
                if (e.value() == null) {
                    replayed.remove(e.key());
                } else {
                    replayed.put(e.key(), e.value());
                }
            });
            if (!replayed.equals(finalState)) {
                problems.add("replaying the events gives " + replayed + " but the final state is " + finalState);
            }
        }
        String summary = checked.size() + " watchers, " + (reference == null ? 0 : reference.size()) + " events each, "
                + acknowledged.size() + " acknowledged puts, fence at revision " + fence + ", "
                + problems.size() + " problems";
        details.addAll(problems.stream().limit(20).toList());
        return new Result(name(), problems.isEmpty() ? Verdict.PASS : Verdict.FAIL, summary, details);
    }

    private long lastRevision(int slot) {
        List<Event> events = seen.get(slot);
        synchronized (events) {
            return events.isEmpty() ? 0 : events.get(events.size() - 1).revision();
        }
    }

    private static String firstDifference(List<Event> a, List<Event> b) {
        for (int i = 0; i < Math.max(a.size(), b.size()); i++) {
            Event x = i < a.size() ? a.get(i) : null;
            Event y = i < b.size() ? b.get(i) : null;
            if (!Objects.equals(x, y)) {
                return i + ": " + x + " vs " + y;
            }
        }
        return "none";
    }

    private static String string(ByteSequence b) {
        return b.toString(StandardCharsets.UTF_8);
    }

    private static ByteSequence bytes(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }
}
