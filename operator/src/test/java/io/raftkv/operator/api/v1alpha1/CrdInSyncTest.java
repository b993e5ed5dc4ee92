package io.raftkv.operator.api.v1alpha1;

import io.fabric8.crdv2.generator.CRDGenerator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The committed CRD under {@code crds/} (and its copy in {@code deploy/crd/}, which kustomize needs
 * inside its root) is what the Java classes generate. To regenerate after
 * changing the classes: {@code mvn -o -pl operator test -Dtest=CrdInSyncTest -Draftkv.crds.write=true},
 * then review the diff.
 */
class CrdInSyncTest {
    static final String FILE = "raftclusters.raftkv.io-v1.yml";

    @TempDir
    Path out;

    @Test
    void committedCrdMatchesTheJavaClasses() throws IOException {
        new CRDGenerator().customResourceClasses(RaftCluster.class).forCRDVersions("v1").inOutputDir(out.toFile())
                .generate();
        String generated = Files.readString(out.resolve(FILE));
        for (Path dir : new Path[] {Path.of(System.getProperty("raftkv.crds.dir", "../crds")),
                Path.of(System.getProperty("raftkv.deploy.crd.dir", "../deploy/crd"))}) {
            Path committed = dir.resolve(FILE);
            if (Boolean.getBoolean("raftkv.crds.write")) {
                Files.createDirectories(committed.getParent());
                Files.writeString(committed, generated);
            }
            assertThat(committed).as("run with -Draftkv.crds.write=true to regenerate " + committed).exists();
            assertThat(Files.readString(committed)).as(committed + " is out of date; run this test with"
                    + " -Draftkv.crds.write=true and commit the result").isEqualTo(generated);
        }
    }

    @Test
    void generatedSchemaCarriesValidationDefaultsAndPrinterColumns() throws IOException {
        new CRDGenerator().customResourceClasses(RaftCluster.class).forCRDVersions("v1").inOutputDir(out.toFile())
                .generate();
        String crd = Files.readString(out.resolve(FILE));
        assertThat(crd).contains("rule: \"self % 2 == 1\"", "maximum: 7.0", "minimum: 1.0", "default: 3",
                "default: \"5m\"", "default: \"Retain\"", "default: 1000", "default: 100",
                "rule: \"self.electionTimeoutMillis > self.heartbeatIntervalMillis\"", "- \"version\"",
                "name: \"Replicas\"", "name: \"Leader\"", "name: \"Ready\"", "name: \"Version\"",
                "name: \"Age\"", "subresources:", "status: {}");
    }
}
