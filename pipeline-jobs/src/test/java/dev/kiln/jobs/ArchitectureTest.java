package dev.kiln.jobs;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The architecture the README's "Architecture" section describes, checked on the compiled main classes of the four
 * modules: every package depends only "downward" (shared plumbing, then the data stages, then the model and its
 * training, then evaluation, then the jobs), and no two packages depend on each other in a cycle. A contributor who
 * makes, say, the shard format import the tokenizer, or the plumbing import a stage, gets this test's message.
 */
class ArchitectureTest {
    static JavaClasses kiln;

    @BeforeAll
    static void importMainClasses() {
        // Main classes only, from the modules' class folders or jars (a reactor build may hand either to this test).
        kiln = new ClassFileImporter()
                .withImportOption(location -> !location.contains("/test-classes/") && !location.contains("-tests.jar"))
                .importPackages("dev.kiln");
        for (String c : List.of("dev.kiln.common.config.KilnConfig", "dev.kiln.preprocess.PreprocessPipeline", "dev.kiln.train.Pretraining",
                "dev.kiln.evaluate.Evaluate", "dev.kiln.jobs.JobRunner")) {
            assertTrue(kiln.contain(c), "the architecture check must see every module; " + c + " is missing");
        }
        assertTrue(kiln.stream().noneMatch(c -> c.getPackageName().startsWith("dev.kiln.testing")), "test fixtures imported");
    }

    @Test
    void layersOnlyDependDownward() {
        layeredArchitecture().consideringOnlyDependenciesInLayers()
                .layer("core").definedBy("dev.kiln.common..", "dev.kiln.documents..", "dev.kiln.shards..")
                .layer("data").definedBy("dev.kiln.preprocess..", "dev.kiln.tokenize..")
                .layer("metrics").definedBy("dev.kiln.metrics..")
                .layer("model").definedBy("dev.kiln.model..", "dev.kiln.train..", "dev.kiln.finetune..", "dev.kiln.generate..", "dev.kiln.hf..")
                .layer("evaluation").definedBy("dev.kiln.evaluate..")
                .layer("jobs").definedBy("dev.kiln.jobs..")
                .whereLayer("jobs").mayNotBeAccessedByAnyLayer()
                .whereLayer("evaluation").mayOnlyBeAccessedByLayers("jobs")
                .whereLayer("model").mayOnlyBeAccessedByLayers("evaluation", "jobs")
                .whereLayer("data").mayOnlyBeAccessedByLayers("model", "evaluation", "jobs")
                .whereLayer("metrics").mayOnlyBeAccessedByLayers("model", "evaluation", "jobs")
                .check(kiln);
    }

    @Test
    void theSharedPlumbingAndTheStageContractsAreTheCoreModule() {
        // The core module (kiln-core) holds exactly these packages, so every stage can depend on it and on nothing else.
        for (JavaClass c : kiln) {
            boolean inCorePackage = c.getPackageName().startsWith("dev.kiln.common") || c.getPackageName().startsWith("dev.kiln.documents")
                    || c.getPackageName().startsWith("dev.kiln.shards");
            String where = c.getSource().map(s -> s.getUri().toString()).orElse("");
            boolean inCoreModule = where.contains("/core/target/classes/") || where.contains("/kiln-core-");
            assertEquals(inCorePackage, inCoreModule, c.getName() + " is in " + where
                    + ": dev.kiln.common, dev.kiln.documents and dev.kiln.shards belong in core/, every other package outside it");
        }
    }

    @Test
    void theShardFormatAndPreprocessingDoNotKnowTheTokenizeStage() {
        // Shards are the contract between tokenize and training: readers of shards must not need the tokenizer's code.
        noClasses().that().resideInAPackage("dev.kiln.shards..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.kiln.preprocess..", "dev.kiln.tokenize..")
                .check(kiln);
        noClasses().that().resideInAPackage("dev.kiln.preprocess..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.kiln.tokenize..", "dev.kiln.shards..")
                .check(kiln);
    }

    @Test
    void theTokenizeStageReadsPreprocessOutputOnlyThroughItsContract() {
        // The preprocess output's layout and run manifests (dev.kiln.documents) are what tokenize reads; the preprocess
        // stage's own code can change without the tokenize stage noticing.
        noClasses().that().resideInAPackage("dev.kiln.tokenize..")
                .should().dependOnClassesThat().resideInAPackage("dev.kiln.preprocess..")
                .check(kiln);
    }

    @Test
    void classifierMetricsArePlainJavaThatFineTuningAndEvaluationShare() {
        // One implementation of accuracy, precision, recall, F1 and the curves, used by `kiln finetune` and `kiln evaluate`.
        classes().that().resideInAPackage("dev.kiln.metrics..")
                .should().onlyDependOnClassesThat().resideInAnyPackage("dev.kiln.metrics..", "java..")
                .check(kiln);
    }

    @Test
    void theModelDoesNotKnowHowItIsTrained() {
        noClasses().that().resideInAPackage("dev.kiln.model..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.kiln.train..", "dev.kiln.finetune..", "dev.kiln.generate..")
                .check(kiln);
    }

    @Test
    void fineTuningDoesNotKnowGeneration() {
        // Both stages start from a trained model through train.checkpoint's one opener (ModelCheckpoints).
        noClasses().that().resideInAPackage("dev.kiln.finetune..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.kiln.generate..")
                .check(kiln);
    }

    @Test
    void conceptPackagesAreFreeOfCycles() {
        slices().matching("dev.kiln.(*)..").should().beFreeOfCycles().check(kiln);
    }

    @Test
    void everyPackageIsFreeOfCycles() {
        // The data-parallel engine (train.parallel) has its own EngineConfig, which pre-training and fine-tuning build.
        slices().matching("dev.kiln.(**)").should().beFreeOfCycles().check(kiln);
    }
}
