package io.raftkv.lincheck;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.Set;

/**
 * Builds histories that are linearizable by construction: every operation is given a linearization
 * point inside its interval and executed, in point order, on a real map; outputs are what the map
 * returned. Every write writes a value no other write uses, so tests can reason about who wrote what.
 */
final class RegisterHistories {

    private RegisterHistories() {
    }

    /** What happens to an operation's outcome. */
    enum Fate {
        /** The client saw the response. */
        COMPLETED,
        /** The client timed out, but the operation did take effect at its linearization point. */
        TIMED_OUT_APPLIED,
        /** The client timed out and the operation never took effect. */
        TIMED_OUT_LOST
    }

    /**
     * One planned operation: its kind, key, how its interval surrounds its linearization point, and
     * for CAS whether it is meant to match. Its linearization point is fixed by its position in the plan.
     */
    record PlannedOp(OpKind kind, int key, boolean casMatches, int pick, int callLead, int retLag, Fate fate) {
    }

    /** Linearization points of consecutive planned operations are this far apart. */
    static final int SPACING = 10;

    /** Executes {@code plan} with the i-th operation taking effect at time {@code SPACING * (i + 1)}. */
    static List<Operation> execute(List<PlannedOp> plan) {
        Map<String, String> store = new HashMap<>();
        Map<String, List<String>> written = new HashMap<>();
        List<Operation> history = new ArrayList<>();
        for (int i = 0; i < plan.size(); i++) {
            PlannedOp p = plan.get(i);
            long point = (long) SPACING * (i + 1);
            long call = point - p.callLead();
            long ret = p.fate() == Fate.COMPLETED ? point + p.retLag() : Operation.INDETERMINATE;
            boolean applies = p.fate() != Fate.TIMED_OUT_LOST;
            history.add(step(store, written, i % 10, "k" + p.key(), p, "v" + i, call, ret, applies));
        }
        return history;
    }

    /**
     * A history of {@code clients} clients, each running one operation at a time against {@code keys}
     * keys, {@code total} operations in all; a fraction {@code timeoutRate} of them time out (half of
     * those still take effect). Deterministic in {@code seed}.
     */
    static List<Operation> concurrentClients(long seed, int clients, int keys, int total, double timeoutRate) {
        Random random = new Random(seed);
        record Slot(int client, long call, long point, long ret, PlannedOp op) {
        }
        List<Slot> slots = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            long t = random.nextInt(20);
            for (int n = 0; n < total / clients; n++) {
                long call = t;
                long point = call + 1 + random.nextInt(40);
                long ret = point + 1 + random.nextInt(40);
                t = ret + random.nextInt(10);
                int roll = random.nextInt(10);
                OpKind kind = roll < 4 ? OpKind.GET : roll < 7 ? OpKind.PUT : roll < 9 ? OpKind.CAS : OpKind.DELETE;
                Fate fate = random.nextDouble() >= timeoutRate
                        ? Fate.COMPLETED
                        : random.nextBoolean() ? Fate.TIMED_OUT_APPLIED : Fate.TIMED_OUT_LOST;
                PlannedOp op = new PlannedOp(kind, random.nextInt(keys), random.nextBoolean(), random.nextInt(100), 0, 0, fate);
                // Scale by the client count and add the client id, so that no two events share a time.
                slots.add(new Slot(c, call * clients + c, point * clients + c, ret * clients + c, op));
            }
        }
        slots.sort(Comparator.comparingLong(Slot::point));
        Map<String, String> store = new HashMap<>();
        Map<String, List<String>> written = new HashMap<>();
        List<Operation> history = new ArrayList<>();
        for (int i = 0; i < slots.size(); i++) {
            Slot s = slots.get(i);
            PlannedOp p = s.op();
            long ret = p.fate() == Fate.COMPLETED ? s.ret() : Operation.INDETERMINATE;
            boolean applies = p.fate() != Fate.TIMED_OUT_LOST;
            history.add(step(store, written, s.client(), "k" + p.key(), p, "v" + i, s.call(), ret, applies));
        }
        return history;
    }

    private static Operation step(
            Map<String, String> store, Map<String, List<String>> written, int client, String key,
            PlannedOp p, String fresh, long call, long ret, boolean applies) {
        String current = store.get(key);
        return switch (p.kind()) {
            case GET -> Operation.get(client, key, applies ? current : null, call, ret);
            case PUT -> {
                if (applies) {
                    store.put(key, fresh);
                    written.computeIfAbsent(key, k -> new ArrayList<>()).add(fresh);
                }
                yield Operation.put(client, key, fresh, call, ret);
            }
            case DELETE -> {
                if (applies) {
                    store.remove(key);
                }
                yield Operation.delete(client, key, call, ret);
            }
            case CAS -> {
                String expected = p.casMatches() ? current : otherThan(current, written.get(key), p.pick());
                boolean matches = Objects.equals(current, expected);
                if (applies && matches) {
                    store.put(key, fresh);
                    written.computeIfAbsent(key, k -> new ArrayList<>()).add(fresh);
                }
                yield Operation.cas(client, key, expected, fresh, matches, call, ret);
            }
        };
    }

    /** A plausible value that is not {@code current}: absent, or something written earlier, or a never-written value. */
    private static String otherThan(String current, List<String> writtenBefore, int pick) {
        Set<String> candidates = new LinkedHashSet<>();
        candidates.add(null);
        if (writtenBefore != null) {
            candidates.addAll(writtenBefore);
        }
        candidates.remove(current);
        if (candidates.isEmpty()) {
            return "never-written";
        }
        List<String> list = new ArrayList<>(candidates);
        return list.get(pick % list.size());
    }
}
