// Which model setting a fine-tuned checkpoint replaces, checked against the manifest's own
// defaults (package.json) and the checkpoint registry rather than a table copied from the code.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { findRegistryEntry } from '../../model-runtime/src/registry';
import { TRAINING_TASKS } from '../../training/launcher/types';
import { baseModelChoices, defaultBaseModel, MODEL_SETTINGS, settingForTask, TRAINING_TASK_INFO } from '../../src/training/task-mapping';

const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '../../package.json'), 'utf8'));
const properties: Record<string, { default?: unknown }> = manifest.contributes.configuration.properties;
/** The checkpoint a setting points at out of the box. */
const defaultOf = (key: string) => findRegistryEntry(String(properties[`pix2struct.${key}`]?.default));

describe('task → model setting', () => {
  test('every setting the mapping can write is a contributed string setting', () => {
    for (const { key } of MODEL_SETTINGS) assert.ok(properties[`pix2struct.${key}`], `pix2struct.${key} is not in package.json`);
  });

  test('a task goes to the setting whose default checkpoint does the same job', () => {
    for (const task of TRAINING_TASKS) {
      const key = settingForTask(task);
      if (!key) continue;
      const current = defaultOf(key);
      assert.ok(current, `the default of pix2struct.${key} is not in the registry`);
      const trainedFrom = findRegistryEntry(defaultBaseModel(task))!;
      if (current.isVqa || trainedFrom.isVqa) {
        // Every question-answering task feeds Ask About Image: the question is the header.
        assert.equal(current.isVqa, trainedFrom.isVqa, `${task} → ${key}`);
      } else {
        assert.equal(current.task, TRAINING_TASK_INFO[task].registryTask, `${task} → ${key}`);
      }
    }
  });

  test('tasks with no command of their own ask the user', () => {
    assert.equal(settingForTask('refexp'), undefined);
    assert.equal(settingForTask('custom'), undefined);
  });
});

describe('base checkpoint suggestions', () => {
  test('the suggestion is a registry checkpoint and comes first', () => {
    for (const task of TRAINING_TASKS) {
      const id = defaultBaseModel(task);
      assert.ok(findRegistryEntry(id), `${task}: ${id}`);
      assert.equal(baseModelChoices(task)[0]!.id, id, task);
    }
  });

  test('custom data starts from the pretrained screenshot parser', () => {
    assert.equal(findRegistryEntry(defaultBaseModel('custom'))!.task, 'screenshot-parsing');
  });
});
