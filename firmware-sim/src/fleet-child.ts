/**
 * Entry of one fleet child process (forked by `startFleet` in fleet.ts with tsx's loader): it runs its
 * share of the boxes until the parent says stop or goes away.
 */
import { runFleetChild } from './fleet.js';

runFleetChild();
