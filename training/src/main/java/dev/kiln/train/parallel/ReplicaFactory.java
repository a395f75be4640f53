package dev.kiln.train.parallel;

import dev.kiln.model.GptConfig;
import dev.kiln.model.GptModel;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.schedule.ISchedule;

import java.io.Serializable;
import java.util.List;

/**
 * Builds the replica a Spark task trains (once per run and worker, in its executor). Its initial weights do not
 * matter: every round overwrites them with the broadcast global weights.
 */
public interface ReplicaFactory extends Serializable {
    Replica create();

    /** A freshly initialised GPT for pre-training. */
    record Pretrain(GptConfig shape, EngineConfig cfg, ISchedule learningRate) implements ReplicaFactory {
        @Override
        public Replica create() {
            return Replica.create(shape, cfg, learningRate);
        }
    }

    /** Any graph, from its configuration JSON (which carries the layers, the updater and its schedule). */
    record FromConfiguration(String graphJson, EngineConfig cfg, RowFormat format, List<String> frozenLayers)
            implements ReplicaFactory {
        public FromConfiguration {
            frozenLayers = List.copyOf(frozenLayers);
        }

        @Override
        public Replica create() {
            Replica.setThreads(cfg.nd4jThreads());
            ComputationGraph model = new ComputationGraph(ComputationGraphConfiguration.fromJson(graphJson));
            model.init();
            GptModel.tie(model);
            return Replica.wrap(model, cfg, format, frozenLayers);
        }
    }
}
