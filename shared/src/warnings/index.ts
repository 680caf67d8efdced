/** Disaster warnings (issue 18): the CAP 1.2 model and the bulletins and risk levels of Decision 18/2021/QĐ-TTg. */
export * from './cap.js';
export * from './decision18.js';
