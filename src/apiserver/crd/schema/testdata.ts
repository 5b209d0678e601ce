/**
 * Realistic CRDs for the tests: the CronTab from the Kubernetes docs ("Extend the Kubernetes API
 * with CustomResourceDefinitions"), with the status and scale subresources and printer columns.
 */
import type { CustomResourceDefinition, JSONSchemaProps } from './types.ts';

export const CRON_SPEC_PATTERN = '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$';

export function cronTabSchema(): JSONSchemaProps {
  return {
    type: 'object',
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: { type: 'object' },
      spec: {
        type: 'object',
        properties: {
          cronSpec: { type: 'string', pattern: CRON_SPEC_PATTERN },
          image: { type: 'string' },
          replicas: { type: 'integer', minimum: 1, maximum: 10 },
        },
      },
      status: {
        type: 'object',
        properties: {
          replicas: { type: 'integer' },
          labelSelector: { type: 'string' },
        },
      },
    },
  };
}

export function cronTabCrd(): CustomResourceDefinition {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'crontabs.stable.example.com' },
    spec: {
      group: 'stable.example.com',
      scope: 'Namespaced',
      names: { plural: 'crontabs', singular: 'crontab', kind: 'CronTab', shortNames: ['ct'] },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: { openAPIV3Schema: cronTabSchema() },
          subresources: {
            status: {},
            scale: {
              specReplicasPath: '.spec.replicas',
              statusReplicasPath: '.status.replicas',
              labelSelectorPath: '.status.labelSelector',
            },
          },
          additionalPrinterColumns: [
            {
              name: 'Spec',
              type: 'string',
              description: 'The cron spec defining the interval a CronJob is run',
              jsonPath: '.spec.cronSpec',
            },
            { name: 'Replicas', type: 'integer', jsonPath: '.spec.replicas' },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
        },
      ],
    },
  };
}

/** A CronTab custom resource. */
export function cronTab(spec: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'stable.example.com/v1',
    kind: 'CronTab',
    metadata: { name: 'my-new-cron-object', namespace: 'default' },
    spec: { cronSpec: '* * * * */5', image: 'my-awesome-cron-image', replicas: 1, ...spec },
  };
}
