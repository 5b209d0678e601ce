/** Node IPAM: pod CIDRs for nodes from --cluster-cidr (the range allocator). */
export { CidrSet, formatIP, formatPrefix, parseIP, parsePrefix } from './cidr.ts';
export { cidrSets, NodeIpamController } from './controller.ts';
