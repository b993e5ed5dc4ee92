package io.raftkv.server.node;

import io.grpc.StatusRuntimeException;
import io.raftkv.log.SegmentedWal;
import io.raftkv.raft.Bootstrap;
import io.raftkv.raft.Config;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * When the driver loop dies of an error (here an OutOfMemoryError thrown while applying), waiting
 * proposals fail with etcd's "server stopped" and the fatal handler is told, so that the node can
 * exit instead of staying up without a driver.
 */
class RaftDriverFatalErrorTest {
    @TempDir
    Path dir;

    /** A state machine whose apply fails as a JVM out of heap would. */
    private static final class OutOfMemoryOnApply extends NoopStateMachine {
        @Override
        public Object apply(long index, byte[] data) {
            throw new OutOfMemoryError("simulated: Java heap space");
        }

        @Override
        public long requestId(byte[] data) {
            return 1;
        }
    }

    @Test
    void anErrorInTheLoopFailsWaitingProposalsAndReachesTheFatalHandler() throws Exception {
        try (SegmentedWal wal = SegmentedWal.open(dir.resolve("wal"))) {
            wal.persist(Bootstrap.hardState(), Bootstrap.entries(Set.of(1L)), null);
            Config config = new Config(1, 10, 2, 1 << 20, 512, 64L << 20, true, true, new SplittableRandom(7));
            RaftDriver driver = new RaftDriver(config, wal, 0, new OutOfMemoryOnApply(), messages -> { }, 5, 1000);
            AtomicReference<Throwable> fatal = new AtomicReference<>();
            driver.onFatal(fatal::set);
            driver.start();
            try {
                driver.call(raft -> {
                    raft.campaign();
                    return null;
                }).get(10, TimeUnit.SECONDS);
                await().atMost(Duration.ofSeconds(10)).until(() -> driver.status().leader() == 1);
                CompletableFuture<Object> put = driver.propose(1, new byte[] {1});
                assertThatThrownBy(() -> put.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                        .cause().isInstanceOf(StatusRuntimeException.class).hasMessageContaining("etcdserver: server stopped");
                await().atMost(Duration.ofSeconds(10)).until(() -> fatal.get() != null);
                assertThat(fatal.get()).isInstanceOf(OutOfMemoryError.class).hasMessageContaining("simulated");
                assertThat(driver.fatalError()).isSameAs(fatal.get());
            } finally {
                driver.close();
            }
        }
    }
}
