/**
 * A model package uploaded to the active tfjs backend: the network plus its heads. Loading the
 * package (package.ts) is separate; create this after choosing the backend, dispose it before
 * switching. Feature extraction with it is extract.ts.
 */
import { type CaffeNetArch, pool5Length } from './architecture';
import { CaffeNet } from './caffenet';
import { RcnnHeads } from './heads';
import type { ModelPackage } from './package';

export interface RcnnModelOptions {
  /**
   * Largest single tensor the backend can bind (WebGPU maxStorageBufferBindingSize). fc layers
   * and head weights above it are split into column blocks; batches are sized below it.
   */
  maxBindingBytes?: number;
}

export class RcnnModel {
  readonly net: CaffeNet;
  readonly heads: RcnnHeads;
  readonly name: string;
  readonly arch: CaffeNetArch;
  /** fc8 class names (background first when fine-tuned), null when unknown. */
  readonly classes: string[] | null;
  readonly svmClasses: string[] | null;
  readonly bboxClasses: string[] | null;
  readonly maxBindingBytes: number;

  constructor(pkg: ModelPackage, opts: RcnnModelOptions = {}) {
    this.maxBindingBytes = opts.maxBindingBytes ?? Infinity;
    this.name = pkg.name;
    this.arch = pkg.architecture;
    this.classes = pkg.classes;
    this.svmClasses = pkg.svm?.classes ?? null;
    this.bboxClasses = pkg.boxRegressor?.classes ?? null;
    this.net = new CaffeNet(pkg.architecture, pkg.weights, { maxBindingBytes: this.maxBindingBytes, trainable: false });
    try {
      this.heads = new RcnnHeads({ svm: pkg.svm, boxRegressor: pkg.boxRegressor }, { fc7: this.arch.fc7, pool5: pool5Length(this.arch), maxBindingBytes: this.maxBindingBytes });
    } catch (e) {
      this.net.dispose();
      throw e;
    }
  }

  dispose(): void {
    this.net.dispose();
    this.heads.dispose();
  }
}
