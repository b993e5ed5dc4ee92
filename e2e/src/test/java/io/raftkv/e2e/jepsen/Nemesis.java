package io.raftkv.e2e.jepsen;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

/**
 * Follows a {@link Schedule} on its own thread: at each step's time it injects the fault into the
 * cluster or the net, waits out the window, and undoes it (restart, SIGCONT, heal), recording what
 * it actually did as a {@link Window} on the run's clock. A fault that cannot be injected is recorded
 * as such and the schedule goes on. {@link #finish()} stops the schedule and undoes anything left.
 */
final class Nemesis {

    /**
     * What happened in one fault window, on the {@link History} clock.
     *
     * @param startNanos when the fault was in place
     * @param endNanos   when it was undone
     * @param fault      the kind
     * @param detail     what exactly was done, e.g. "kill -9 n2 (leader)"
     */
    record Window(long startNanos, long endNanos, Fault fault, String detail) {
        @Override
        public String toString() {
            return String.format("%7.2fs .. %7.2fs  %-17s %s", startNanos / 1e9, endNanos / 1e9, fault, detail);
        }
    }

    private final JepsenCluster cluster;
    private final Net net;
    private final Schedule schedule;
    private final History clock;
    private final SplittableRandom rnd;
    private final List<Window> timeline = new CopyOnWriteArrayList<>();
    private final Thread thread;
    private volatile boolean stopped;
    private int kills;

    Nemesis(JepsenCluster cluster, Net net, Schedule schedule, History clock, long seed) {
        this.cluster = cluster;
        this.net = net;
        this.schedule = schedule;
        this.clock = clock;
        this.rnd = new SplittableRandom(seed ^ 0x5DEECE66DL);
        this.thread = new Thread(this::runSchedule, "nemesis");
        this.thread.setDaemon(true);
    }

    /** Starts following the schedule; step times count from now. */
    void start() {
        thread.start();
    }

    /** The windows so far. */
    List<Window> timeline() {
        return List.copyOf(timeline);
    }

    /** Waits for the schedule to end (or stops it), then undoes every fault: heal, SIGCONT, restart. */
    void finish() throws InterruptedException, IOException {
        thread.join(Math.max(1, schedule.steps().stream().mapToLong(s -> s.atMs() + s.durationMs()).max().orElse(0) + 60_000));
        stopped = true;
        thread.interrupt();
        thread.join(30_000);
        healEverything();
    }

    private void healEverything() throws IOException, InterruptedException {
        net.heal();
        for (int slot : cluster.members()) {
            cluster.signal(slot, false);
            if (!cluster.alive(slot)) {
                cluster.startNode(slot, false);
            }
        }
    }

    private void runSchedule() {
        long origin = System.nanoTime();
        for (Schedule.Step step : schedule.steps()) {
            long waitMs = step.atMs() - (System.nanoTime() - origin) / 1_000_000;
            if (stopped || !sleep(waitMs)) {
                return;
            }
            long start = clock.now();
            String detail;
            Supplier<String> undo;
            try {
                Injected injected = inject(step.fault());
                detail = injected.detail();
                undo = injected.undo();
            } catch (Exception e) {
                timeline.add(new Window(start, clock.now(), step.fault(), "not injected: " + e));
                continue;
            }
            sleep(step.durationMs());
            try {
                String note = undo.get();
                if (!note.isEmpty()) {
                    detail += "; " + note;
                }
            } catch (RuntimeException e) {
                detail += "; undo failed: " + e;
            }
            timeline.add(new Window(start, clock.now(), step.fault(), detail));
        }
    }

    /** A fault in place: what was done, and how to undo it (returning a note on what the undo found, or ""). */
    private record Injected(String detail, Supplier<String> undo) {
    }

    private Supplier<String> healNet() {
        return () -> {
            net.heal();
            return "";
        };
    }

    private Injected inject(Fault fault) throws Exception {
        List<Integer> members = cluster.members();
        int leader = cluster.leader();
        int target = leader >= 0 && (fault != Fault.KILL || kills % 2 == 0) ? leader : members.get(rnd.nextInt(members.size()));
        String who = cluster.name(target) + (target == leader ? " (leader)" : "");
        return switch (fault) {
            case KILL -> {
                kills++;
                cluster.kill(target);
                yield new Injected("kill -9 " + who + "; restarted at the end", () -> {
                    restart(target);
                    return "";
                });
            }
            case PAUSE -> {
                cluster.signal(target, true);
                yield new Injected("SIGSTOP " + who + "; SIGCONT at the end", () -> {
                    cluster.signal(target, false);
                    return "";
                });
            }
            case PARTITION_LEADER -> {
                List<Integer> others = new ArrayList<>(members);
                others.remove(Integer.valueOf(target));
                cut(List.of(target), others);
                yield new Injected(who + " isolated from " + names(others), healNet());
            }
            case PARTITION_HALVES -> {
                List<Integer> shuffled = shuffled(members);
                List<Integer> minority = shuffled.subList(0, members.size() / 2);
                List<Integer> majority = shuffled.subList(members.size() / 2, members.size());
                cut(minority, majority);
                yield new Injected("minority " + names(minority) + " | majority " + names(majority)
                        + " (leader was " + (leader >= 0 ? cluster.name(leader) : "unknown") + ")", healNet());
            }
            case PARTITION_BRIDGE -> {
                List<Integer> shuffled = shuffled(members);
                int bridge = shuffled.get(0);
                List<Integer> rest = shuffled.subList(1, shuffled.size());
                List<Integer> left = rest.subList(0, rest.size() / 2);
                List<Integer> right = rest.subList(rest.size() / 2, rest.size());
                cut(left, right);
                yield new Injected(names(left) + " | " + names(right) + ", bridge " + cluster.name(bridge)
                        + " sees both", healNet());
            }
            case PARTITION_ONE_WAY -> {
                for (int m : members) {
                    if (m != target) {
                        net.drop(target, m);
                    }
                }
                yield new Injected("packets from " + who + " to every other member dropped (one way)", healNet());
            }
            case MEMBERSHIP -> changeMembership(members, leader);
            case DISK_FULL -> fillDisk(target, who);
            case REPLACE_TWO -> replaceTwo(members, leader);
        };
    }

    private Injected changeMembership(List<Integer> members, int leader) throws Exception {
        cluster.awaitHealthy(Duration.ofSeconds(20));
        int victim = members.get(rnd.nextInt(members.size()));
        int via = leader >= 0 && leader != victim ? leader : members.stream().filter(m -> m != victim).findFirst().orElseThrow();
        cluster.removeMember(victim, via);
        String detail = "MemberRemove " + cluster.name(victim) + (victim == leader ? " (leader)" : "");
        int added = -1;
        Exception addFailure = null;
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (added < 0 && System.nanoTime() < deadline) {
            try {
                added = cluster.addMember(via);
            } catch (Exception e) {
                // etcd refuses MemberAdd until the removal is applied and the cluster is healthy again
                addFailure = e;
                sleep(500);
            }
        }
        if (added < 0) {
            return new Injected(detail + "; MemberAdd failed: " + addFailure, () -> "");
        }
        int fresh = added;
        return new Injected(detail + ", then MemberAdd + start of fresh " + cluster.name(fresh), () -> "");
    }

    /**
     * Fills the target's data dir (its own tmpfs) with one preallocated file, so that its next
     * write or fsync fails with ENOSPC; the undo deletes the file and restarts the member if the
     * full disk made it exit.
     */
    private Injected fillDisk(int target, String who) throws IOException {
        if (cluster.tmpfsBytes() <= 0) {
            throw new IllegalStateException("data dirs are not on a size-limited tmpfs");
        }
        java.nio.file.Path dir = cluster.dataDir(target);
        java.nio.file.Path filler = dir.resolve("jepsen-disk-filler");
        long free = java.nio.file.Files.getFileStore(dir).getUsableSpace();
        Cmd.check("fallocate", "-l", Long.toString(free), filler.toString());
        long left = java.nio.file.Files.getFileStore(dir).getUsableSpace();
        return new Injected("filled " + who + "'s data dir (" + (cluster.tmpfsBytes() >> 20) + " MiB tmpfs): "
                + (free >> 20) + " MiB taken, " + left + " bytes left", () -> {
            try {
                java.nio.file.Files.deleteIfExists(filler);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            if (!cluster.alive(target)) {
                restart(target);
                return cluster.name(target) + " had exited with the disk full (see its log); restarted";
            }
            return cluster.name(target) + " still running when space came back";
        });
    }

    private Injected replaceTwo(List<Integer> members, int leader) throws Exception {
        cluster.awaitHealthy(Duration.ofSeconds(20));
        List<Integer> victims = shuffled(members).subList(0, 2);
        int via = leader >= 0 && !victims.contains(leader) ? leader
                : members.stream().filter(m -> !victims.contains(m)).findFirst().orElseThrow();
        List<Integer> fresh = cluster.replaceMembers(victims, via);
        return new Injected("ChangeMembers via " + cluster.name(via) + ": remove " + names(victims)
                + (victims.contains(leader) ? " (with the leader)" : "") + ", add " + names(fresh) + " in one change",
                () -> "");
    }

    private void restart(int slot) {
        try {
            cluster.startNode(slot, false);
        } catch (IOException e) {
            throw new IllegalStateException("restart of " + cluster.name(slot) + " failed", e);
        }
    }

    /** Drops every packet between the two sides, both ways. */
    private void cut(List<Integer> a, List<Integer> b) {
        for (int x : a) {
            for (int y : b) {
                net.drop(x, y);
                net.drop(y, x);
            }
        }
    }

    private List<Integer> shuffled(List<Integer> members) {
        List<Integer> out = new ArrayList<>(members);
        Collections.shuffle(out, new java.util.Random(rnd.nextLong()));
        return out;
    }

    private String names(List<Integer> slots) {
        return slots.stream().map(cluster::name).toList().toString();
    }

    /** Sleeps; false if interrupted (the nemesis is being stopped). */
    private static boolean sleep(long ms) {
        if (ms <= 0) {
            return true;
        }
        try {
            Thread.sleep(ms);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
