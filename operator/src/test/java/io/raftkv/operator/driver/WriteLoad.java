package io.raftkv.operator.driver;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.raftkv.server.api.etcd.KVGrpc;
import io.raftkv.server.api.etcd.PutRequest;
import io.raftkv.server.api.etcd.RangeRequest;
import io.raftkv.server.api.mvcc.KeyValue;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * A steady write load: one thread puts {@code load/<n>} = {@code n} one after another to the
 * running members, retrying a key until it is acknowledged. Records every acknowledged write so that
 * {@link #missing} can tell whether the cluster lost one.
 */
final class WriteLoad implements AutoCloseable {
    private final Supplier<List<String>> endpoints;
    private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, String> acked = new ConcurrentHashMap<>();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Thread thread;

    WriteLoad(Supplier<List<String>> endpoints) {
        this.endpoints = endpoints;
        this.thread = new Thread(this::run, "write-load");
        thread.setDaemon(true);
        thread.start();
    }

    int ackedCount() {
        return acked.size();
    }

    private void run() {
        long n = 0;
        int turn = 0;
        while (running.get()) {
            List<String> eps = endpoints.get();
            if (eps.isEmpty()) {
                pause(50);
                continue;
            }
            String ep = eps.get(turn++ % eps.size());
            String key = "load/" + n;
            try {
                KVGrpc.newBlockingStub(channel(ep)).withDeadlineAfter(5, TimeUnit.SECONDS).put(PutRequest.newBuilder()
                        .setKey(ByteString.copyFromUtf8(key)).setValue(ByteString.copyFromUtf8(Long.toString(n))).build());
                acked.put(key, Long.toString(n));
                n++;
                pause(5);
            } catch (StatusRuntimeException e) {
                pause(50);
            }
        }
    }

    /** Stops writing and returns acknowledged keys that the cluster does not hold with their value. */
    Map<String, String> missing(String endpoint) throws InterruptedException {
        running.set(false);
        thread.join(10_000);
        List<KeyValue> kvs = KVGrpc.newBlockingStub(channel(endpoint)).withDeadlineAfter(20, TimeUnit.SECONDS)
                .range(RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("load/"))
                        .setRangeEnd(ByteString.copyFromUtf8("load0")).build()).getKvsList();
        Map<String, String> stored = new HashMap<>();
        for (KeyValue kv : kvs) {
            stored.put(kv.getKey().toString(StandardCharsets.UTF_8), kv.getValue().toString(StandardCharsets.UTF_8));
        }
        Map<String, String> out = new HashMap<>();
        acked.forEach((k, v) -> {
            if (!v.equals(stored.get(k))) {
                out.put(k, v);
            }
        });
        return out;
    }

    private ManagedChannel channel(String endpoint) {
        return channels.computeIfAbsent(endpoint, e -> {
            URI u = URI.create(e);
            return NettyChannelBuilder.forAddress(u.getHost(), u.getPort()).usePlaintext().build();
        });
    }

    private static void pause(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        running.set(false);
        channels.values().forEach(ManagedChannel::shutdownNow);
    }
}
