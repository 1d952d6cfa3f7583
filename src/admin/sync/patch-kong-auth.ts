/**
 * Splices the register hook at the end of a workspace's own kong.auth.js, and takes it out again.
 * The hook wraps `window.Kong.Auth.register`, so the file must define it; every kong-portal-templates
 * release does, in one of the shapes matched below.
 */
import { MARKERS } from '../../shared/bundle-layout.ts';
import { insertBlock, locateBlock, removeBlock, replaceBlock, type BlockLocation } from './marked-block.ts';
import { SyncRefusal } from './sync-errors.ts';
import { detectEol, withEol } from './text.ts';

const REGISTER_SHAPES = [
  /\bAuth\s*\.\s*register\s*=/, // window.Kong.Auth.register = function (options) {
  /\bregister\s*:\s*(?:async\s+)?(?:function\b|\()/, // Auth = { register: function (options) {
  /^\s*(?:async\s+)?register\s*\([^)]*\)\s*\{/m, // Auth = { register (options) {
];

/** True when the file defines Kong.Auth.register (outside our own block). */
export function definesRegister(kongAuth: string): boolean {
  return /\bAuth\b/.test(kongAuth) && REGISTER_SHAPES.some((shape) => shape.test(kongAuth));
}

export function locateRegisterHook(kongAuth: string, file: string): BlockLocation | undefined {
  return locateBlock(kongAuth, MARKERS.registerHook, file);
}

/** kong.auth.js with the current hook: replaced in place when a block is there, else appended. */
export function patchKongAuth(kongAuth: string, hookBlock: string, file: string): string {
  const location = locateRegisterHook(kongAuth, file);
  const pristine = location ? removeBlock(kongAuth, location) : kongAuth;
  if (!definesRegister(pristine))
    throw new SyncRefusal(
      'sync_no_register',
      file,
      'does not define window.Kong.Auth.register, so the signup hook has nothing to wrap',
      "restore the theme's kong.auth.js from kong-portal-templates (it defines Kong.Auth.register), or pass --theme with the theme the portal really uses",
    );
  const eol = detectEol(kongAuth);
  const block = withEol(hookBlock, eol);
  return location ? replaceBlock(kongAuth, location, block) : insertBlock(kongAuth, kongAuth.length, block, eol);
}

/** kong.auth.js without the hook, byte for byte what it was before install. */
export function unpatchKongAuth(kongAuth: string, file: string): string {
  const location = locateRegisterHook(kongAuth, file);
  return location ? removeBlock(kongAuth, location) : kongAuth;
}
